"""Polite HTTP fetching: one pooled session, robots.txt, per-host pacing, retries, size and domain limits.

Every source goes through `PoliteFetcher`; nothing else in wirestance opens HTTP connections. Whatever a
server answers, `get` returns a result or raises `FetchError` naming the URL and the reason: a whole-response
deadline bounds each request (a server trickling one byte at a time cannot hold a worker), and a host's
Retry-After pauses every worker on that host, up to a total budget past which its URLs fail at once.
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
import random
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import requests
from protego import Protego
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from wirestance.settings import Settings

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_REDIRECTS = 5


class FetchError(Exception):
    """A URL that could not be fetched; the message names the URL and the reason."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class RecordingError(FetchError):
    """The response arrived but could not be written to the raw archive (full or read-only disk): a
    problem of ours, not the host's, so it never makes a host's robots.txt count as unreachable."""


@dataclass(frozen=True)
class FetchResult:
    url: str  # the URL asked for
    final_url: str  # after redirects
    status: int
    headers: dict[str, str]
    body: bytes
    fetched_at: datetime
    not_modified: bool = False  # a conditional GET answered 304

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def declared_charset(self) -> str | None:
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip('"').lower()
        return None


#: Called with every response (including robots.txt and 304s), e.g. to archive it.
ResponseRecorder = Callable[[requests.PreparedRequest, FetchResult], None]


# --- the whole-response deadline ----------------------------------------------------------------
#
# requests' timeouts bound the connect and each read, not the whole response: a server sending one byte
# every few seconds never trips them. A timer per request shuts the connection's socket down when the
# request's deadline passes, which wakes the blocked read; the connection classes below tell the timer of
# the request's socket (connections are made and reused inside urllib3, where nothing else can see them).

_current_deadline = threading.local()


class _ResponseDeadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, seconds), self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _ResponseDeadline:
        _current_deadline.value = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        _current_deadline.value = None

    def attach(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._socket = sock
            expired = self.expired
        if expired and sock is not None:
            _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sock = self._socket
        if sock is not None:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


def _attach_to_deadline(sock: socket.socket | None) -> None:
    deadline: _ResponseDeadline | None = getattr(_current_deadline, "value", None)
    if deadline is not None:
        deadline.attach(sock)


class _DeadlineHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _attach_to_deadline(self.sock)

    def request(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        if self.sock is not None:  # a kept-alive connection reused for this request
            _attach_to_deadline(self.sock)
        super().request(*args, **kwargs)  # type: ignore[arg-type]


class _DeadlineHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _attach_to_deadline(self.sock)

    def request(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        if self.sock is not None:
            _attach_to_deadline(self.sock)
        super().request(*args, **kwargs)  # type: ignore[arg-type]


class _DeadlineHTTPPool(HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _DeadlineHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


class _DeadlineAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        super().init_poolmanager(*args, **kwargs)  # type: ignore[arg-type]
        self.poolmanager.pool_classes_by_scheme = {"http": _DeadlineHTTPPool, "https": _DeadlineHTTPSPool}


def host_allowed(url: str, allowed_domains: Sequence[str]) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == d or host.endswith("." + d) for d in allowed_domains)


@dataclass
class _HostPacer:
    """Minimum delay between request starts, a cap on requests in flight, and the host's Retry-After
    pauses, for one host (shared by every worker of the fetcher)."""

    delay: float
    slots: threading.BoundedSemaphore
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_start: float = 0.0
    #: Seconds of Retry-After this host has imposed so far (against Settings.retry_after_budget).
    retry_after_spent: float = 0.0
    #: Until when (monotonic) the host is not asked at all, and the wait it asked for.
    refused_until: float = 0.0
    refused_wait: float = 0.0

    def wait_turn(self, deadline: float | None) -> bool:
        """Sleep until this request may start; False (and no turn taken) if that is past `deadline`."""
        with self.lock:
            now = time.monotonic()
            start = max(now, self.next_start)
            if deadline is not None and start > deadline:
                return False
            self.next_start = start + self.delay
        if start > now:
            time.sleep(start - now)
        return True

    def refusal(self) -> float | None:
        """The wait the host asked for, while it is still refusing us; else None."""
        with self.lock:
            return self.refused_wait if time.monotonic() < self.refused_until else None

    def pause(self, seconds: float, budget: float, cap: float) -> bool:
        """A 429/503 with Retry-After pauses every later request to the host, not just this one. False when
        the pause is over the cap or the host's total budget: the host is then not asked again until the
        time it named has passed."""
        with self.lock:
            now = time.monotonic()
            if seconds > cap or self.retry_after_spent + seconds > budget:
                self.refused_until = max(self.refused_until, now + seconds)
                self.refused_wait = seconds
                return False
            self.retry_after_spent += seconds
            self.next_start = max(self.next_start, now + seconds)
            return True


class PoliteFetcher:
    def __init__(
        self,
        settings: Settings,
        allowed_domains: Sequence[str],
        *,
        obey_robots: bool = True,
        recorder: ResponseRecorder | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.allowed_domains = tuple(d.lower() for d in allowed_domains)
        self.obey_robots = obey_robots
        self.recorder = recorder
        self._sleep = sleep
        self._session = requests.Session()
        pool = max(4, settings.per_host_concurrency * 2)
        adapter = _DeadlineAdapter(pool_connections=pool, pool_maxsize=pool, max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers["User-Agent"] = settings.user_agent
        self._session.headers["Accept-Encoding"] = "gzip, deflate"
        self._pacers: dict[str, _HostPacer] = {}
        self._robots: dict[str, Protego | bool] = {}  # True/False: allow/disallow everything
        self._validators: dict[str, tuple[str | None, str | None]] = {}
        self._registry_lock = threading.Lock()

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> PoliteFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public -----------------------------------------------------------------------------------

    def get(
        self,
        url: str,
        *,
        conditional: bool = False,
        headers: Mapping[str, str] | None = None,
        deadline: float | None = None,
    ) -> FetchResult:
        """GET `url` politely. With `conditional`, send the ETag / Last-Modified seen last time; `headers` adds
        request headers (a Range for one record of a Common Crawl WARC file); `deadline` (time.monotonic())
        is when the caller gives up: no request starts or waits past it."""
        self._check_url(url)
        if self.obey_robots:
            self._check_robots(url)
        request_headers: dict[str, str] = dict(headers or {})
        if conditional and url in self._validators:
            etag, last_modified = self._validators[url]
            if etag:
                request_headers["If-None-Match"] = etag
            if last_modified:
                request_headers["If-Modified-Since"] = last_modified
        result = self._get_following_redirects(url, request_headers, deadline)
        if conditional and result.status == 200:
            self._validators[url] = (result.headers.get("etag"), result.headers.get("last-modified"))
        return result

    @property
    def validators(self) -> dict[str, tuple[str | None, str | None]]:
        """ETag / Last-Modified per feed URL; persist and restore them to keep conditional GETs across runs."""
        return self._validators

    # -- internals --------------------------------------------------------------------------------

    def _check_url(self, url: str) -> None:
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
        except ValueError as exc:
            raise FetchError(url, f"invalid URL: {exc}") from None
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise FetchError(url, f"scheme {scheme or '(none)'!r} is not http(s)")
        if not parts.hostname:
            raise FetchError(url, "invalid URL: no host")
        if not host_allowed(url, self.allowed_domains):
            raise FetchError(url, f"host is outside the source's domains {list(self.allowed_domains)}")

    def _pacer(self, url: str) -> _HostPacer:
        host = urlsplit(url).netloc.lower()
        with self._registry_lock:
            pacer = self._pacers.get(host)
            if pacer is None:
                pacer = _HostPacer(
                    delay=self.settings.per_host_delay,
                    slots=threading.BoundedSemaphore(self.settings.per_host_concurrency),
                )
                self._pacers[host] = pacer
            return pacer

    def _check_robots(self, url: str) -> None:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._registry_lock:
            rules = self._robots.get(origin)
        if rules is None:
            try:
                # Not the caller's deadline: robots.txt cut short by our own batch deadline would mark the
                # host disallowed for good. Its request has its own whole-response deadline.
                rules = self._load_robots(origin)
            except RecordingError as exc:
                raise RecordingError(url, f"{exc.reason} (recording {origin}/robots.txt)") from exc
            with self._registry_lock:
                self._robots[origin] = rules
        if rules is False:
            raise FetchError(url, "disallowed by robots.txt (it is unreachable: RFC 9309 says assume disallow)")
        if isinstance(rules, Protego) and not rules.can_fetch(url, self.settings.user_agent):
            raise FetchError(url, "disallowed by robots.txt")

    def _load_robots(self, origin: str) -> Protego | bool:
        """Protego reads RFC 9309 (longest match wins, `*` and `$` wildcards); True/False: all allowed/not."""
        robots_url = origin + "/robots.txt"
        try:
            result = self._get_following_redirects(robots_url, {}, None)
        except RecordingError:
            raise  # our archive failed, not the host: ask again next time
        except FetchError as exc:
            # RFC 9309: an unreachable robots.txt means we must assume everything is disallowed.
            log.warning("robots.txt unreachable, treating %s as disallowed: %s", origin, exc.reason)
            return False
        if result.status >= 500:
            return False
        if result.status >= 400:
            return True  # RFC 9309: 4xx means no rules
        try:
            return Protego.parse(decode_body(result.body, result.declared_charset))
        except Exception as exc:  # RFC 9309: lines that do not parse are ignored, so garbage means no rules
            log.warning("robots.txt of %s does not parse (%s): no rules", origin, exc)
            return True

    def _get_following_redirects(self, url: str, headers: dict[str, str], deadline: float | None) -> FetchResult:
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            result = self._get_with_retries(url, current, headers, deadline)
            if result.status in (301, 302, 303, 307, 308) and "location" in result.headers:
                location = result.headers["location"]
                try:
                    target = urljoin(current, location)
                except ValueError as exc:
                    raise FetchError(url, f"redirect to {location!r} refused: invalid URL: {exc}") from None
                try:
                    self._check_url(target)
                except FetchError as exc:
                    raise FetchError(url, f"redirect to {target} refused: {exc.reason}") from None
                current = target
                continue
            return result
        raise FetchError(url, f"more than {MAX_REDIRECTS} redirects")

    def _get_with_retries(
        self, asked_url: str, url: str, headers: dict[str, str], deadline: float | None
    ) -> FetchResult:
        pacer = self._pacer(url)
        attempts = max(1, self.settings.max_attempts)
        last_reason = ""
        for attempt in range(attempts):
            wait_hint: float | None = None
            refused = pacer.refusal()
            if refused is not None:
                raise FetchError(asked_url, f"host asked us to wait {refused:.0f} s{self._budget_note()}")
            with pacer.slots:
                if not pacer.wait_turn(deadline):
                    raise FetchError(
                        asked_url, f"deadline passed while waiting for the host ({last_reason or 'pacing'})"
                    )
                try:
                    result = self._get_once(asked_url, url, headers, deadline)
                except _Transient as exc:
                    last_reason = str(exc)
                else:
                    if result.status not in RETRYABLE_STATUS:
                        return result
                    last_reason = f"HTTP {result.status}"
                    wait_hint = _retry_after_seconds(result.headers.get("retry-after"))
                    if wait_hint is not None and not pacer.pause(
                        wait_hint, self.settings.retry_after_budget, self.settings.max_retry_after
                    ):
                        raise FetchError(
                            asked_url, f"host asked us to wait {wait_hint:.0f} s ({last_reason}){self._budget_note()}"
                        )
            if attempt + 1 < attempts and wait_hint is None:
                # With a Retry-After the pacer holds every worker's next request to this host instead.
                pause = self._backoff(attempt)
                if deadline is not None and time.monotonic() + pause > deadline:
                    break
                self._sleep(pause)
        raise FetchError(asked_url, f"gave up after {attempts} attempts: {last_reason}")

    def _budget_note(self) -> str:
        return (
            f"; more than we wait (Retry-After cap {self.settings.max_retry_after:.0f} s, "
            f"{self.settings.retry_after_budget:.0f} s per host in all)"
        )

    def _backoff(self, attempt: int) -> float:
        # Full jitter keeps many clients that failed together from retrying together.
        return random.uniform(0, self.settings.backoff_base * (2**attempt))

    def _get_once(self, asked_url: str, url: str, headers: dict[str, str], deadline: float | None) -> FetchResult:
        """One request. Raises _Transient for what a retry may cure, FetchError for the rest."""
        timeout = self.settings.timeout
        limit = self.settings.max_body_bytes
        allowed = self.settings.request_deadline
        if deadline is not None:
            allowed = min(allowed, deadline - time.monotonic())
            if allowed <= 0:
                raise FetchError(asked_url, "deadline passed before the request")
        with _ResponseDeadline(allowed) as response_deadline:
            try:
                result = self._read_response(asked_url, url, headers, timeout, limit)
            except FetchError:
                raise
            except Exception as exc:
                if response_deadline.expired:
                    raise FetchError(asked_url, f"no whole response within the {allowed:.1f} s deadline") from None
                raise _classify_error(asked_url, exc) from None
            if response_deadline.expired:  # a close-delimited body cut short by the deadline is not whole
                raise FetchError(asked_url, f"no whole response within the {allowed:.1f} s deadline")
        if self.recorder is not None:
            request, fetched = result
            try:
                self.recorder(request, fetched)
            except RecordingError:
                raise
            except Exception as exc:
                raise RecordingError(asked_url, f"raw archive write failed: {type(exc).__name__}: {exc}") from exc
        return result[1]

    def _read_response(
        self, asked_url: str, url: str, headers: dict[str, str], timeout: float, limit: int
    ) -> tuple[requests.PreparedRequest, FetchResult]:
        with self._session.get(
            url, headers=headers, timeout=(timeout, timeout), allow_redirects=False, stream=True
        ) as response:
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise FetchError(asked_url, f"body of {declared} bytes exceeds the {limit}-byte limit")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > limit:
                    raise FetchError(asked_url, f"body exceeds the {limit}-byte limit")
                chunks.append(chunk)
            result = FetchResult(
                url=asked_url,
                final_url=url,
                status=response.status_code,
                headers={k.lower(): v for k, v in response.headers.items()},
                body=b"".join(chunks),
                fetched_at=datetime.now(UTC),
                not_modified=response.status_code == 304,
            )
            return response.request, result


class _Transient(Exception):
    """A failure a later attempt may not meet (connection refused or reset, a timeout, a cut body)."""


def _classify_error(url: str, exc: Exception) -> Exception:
    """What one request's exception means: _Transient (retry) or FetchError naming it (give up)."""
    described = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        encoding = "the declared Content-Encoding"
        return FetchError(url, f"body does not decode as {encoding} ({described})")
    if isinstance(exc, requests.exceptions.InvalidHeader) or "Content-Length" in str(exc):
        return FetchError(url, f"malformed response headers ({described})")
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.URLRequired, ValueError)):
        return FetchError(url, f"invalid URL ({described})")
    if isinstance(exc, (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)):
        return _Transient(described)
    return FetchError(url, described)


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def decode_body(body: bytes, declared_charset: str | None) -> str:
    """Decode a page whose Content-Type charset may be wrong.

    Servers often declare ISO-8859-1 (or nothing) for UTF-8 pages; a strict UTF-8 decode that succeeds is
    almost never wrong, so it goes before the declared charset.
    """
    if body.startswith(b"\xef\xbb\xbf"):
        return body[3:].decode("utf-8", errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for charset in (declared_charset, "windows-1254"):  # Turkish sites' legacy code page
        if not charset:
            continue
        try:
            return body.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", errors="replace")
