"""Polite HTTP fetching: one pooled session, robots.txt, per-host pacing, retries, size and domain limits.

Every source goes through `PoliteFetcher`; nothing else in wirestance opens HTTP connections.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
import urllib.robotparser
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter

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


def host_allowed(url: str, allowed_domains: Sequence[str]) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == d or host.endswith("." + d) for d in allowed_domains)


@dataclass
class _HostPacer:
    """Minimum delay between request starts and a cap on requests in flight, for one host."""

    delay: float
    slots: threading.BoundedSemaphore
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_start: float = 0.0

    def wait_turn(self) -> None:
        with self.lock:
            now = time.monotonic()
            start = max(now, self.next_start)
            self.next_start = start + self.delay
        if start > now:
            time.sleep(start - now)

    def push_back(self, seconds: float) -> None:
        """A 429/503 with Retry-After slows every later request to the host, not just this one."""
        with self.lock:
            self.next_start = max(self.next_start, time.monotonic() + seconds)


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
        adapter = HTTPAdapter(pool_connections=pool, pool_maxsize=pool, max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers["User-Agent"] = settings.user_agent
        self._session.headers["Accept-Encoding"] = "gzip, deflate"
        self._pacers: dict[str, _HostPacer] = {}
        self._robots: dict[str, urllib.robotparser.RobotFileParser] = {}
        self._validators: dict[str, tuple[str | None, str | None]] = {}
        self._registry_lock = threading.Lock()

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> PoliteFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public -----------------------------------------------------------------------------------

    def get(self, url: str, *, conditional: bool = False, headers: Mapping[str, str] | None = None) -> FetchResult:
        """GET `url` politely. With `conditional`, send the ETag / Last-Modified seen last time; `headers` adds
        request headers (a Range for one record of a Common Crawl WARC file)."""
        self._check_url(url)
        if self.obey_robots and not self._robots_allow(url):
            raise FetchError(url, "disallowed by robots.txt")
        request_headers: dict[str, str] = dict(headers or {})
        if conditional and url in self._validators:
            etag, last_modified = self._validators[url]
            if etag:
                request_headers["If-None-Match"] = etag
            if last_modified:
                request_headers["If-Modified-Since"] = last_modified
        result = self._get_following_redirects(url, request_headers)
        if conditional and result.status == 200:
            self._validators[url] = (result.headers.get("etag"), result.headers.get("last-modified"))
        return result

    @property
    def validators(self) -> dict[str, tuple[str | None, str | None]]:
        """ETag / Last-Modified per feed URL; persist and restore them to keep conditional GETs across runs."""
        return self._validators

    # -- internals --------------------------------------------------------------------------------

    def _check_url(self, url: str) -> None:
        scheme = urlsplit(url).scheme.lower()
        if scheme not in ("http", "https"):
            raise FetchError(url, f"scheme {scheme or '(none)'!r} is not http(s)")
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

    def _robots_allow(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._registry_lock:
            parser = self._robots.get(origin)
        if parser is None:
            parser = self._load_robots(origin)
            with self._registry_lock:
                self._robots[origin] = parser
        return parser.can_fetch(self.settings.user_agent, url)

    def _load_robots(self, origin: str) -> urllib.robotparser.RobotFileParser:
        robots_url = origin + "/robots.txt"
        parser = urllib.robotparser.RobotFileParser(robots_url)
        try:
            result = self._get_following_redirects(robots_url, {})
        except FetchError as exc:
            # RFC 9309: an unreachable robots.txt means we must assume everything is disallowed.
            log.warning("robots.txt unreachable, treating %s as disallowed: %s", origin, exc.reason)
            parser.disallow_all = True
            return parser
        if result.status >= 500:
            parser.disallow_all = True
        elif result.status >= 400:
            parser.allow_all = True  # RFC 9309: 4xx means no rules
        else:
            parser.parse(result.body.decode("utf-8", errors="replace").splitlines())
        return parser

    def _get_following_redirects(self, url: str, headers: dict[str, str]) -> FetchResult:
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            result = self._get_with_retries(url, current, headers)
            if result.status in (301, 302, 303, 307, 308) and "location" in result.headers:
                target = urljoin(current, result.headers["location"])
                try:
                    self._check_url(target)
                except FetchError as exc:
                    raise FetchError(url, f"redirect to {target} refused: {exc.reason}") from None
                current = target
                continue
            return result
        raise FetchError(url, f"more than {MAX_REDIRECTS} redirects")

    def _get_with_retries(self, asked_url: str, url: str, headers: dict[str, str]) -> FetchResult:
        pacer = self._pacer(url)
        attempts = max(1, self.settings.max_attempts)
        last_reason = ""
        for attempt in range(attempts):
            wait_hint: float | None = None
            with pacer.slots:
                pacer.wait_turn()
                try:
                    result = self._get_once(asked_url, url, headers)
                except FetchError:
                    raise
                except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
                    last_reason = f"{type(exc).__name__}: {exc}"
                else:
                    if result.status not in RETRYABLE_STATUS:
                        return result
                    last_reason = f"HTTP {result.status}"
                    wait_hint = _retry_after_seconds(result.headers.get("retry-after"))
                    if wait_hint is not None:
                        if wait_hint > self.settings.max_retry_after:
                            raise FetchError(asked_url, f"{last_reason} with Retry-After {wait_hint:.0f}s")
                        pacer.push_back(wait_hint)
            if attempt + 1 < attempts:
                self._sleep(wait_hint if wait_hint is not None else self._backoff(attempt))
        raise FetchError(asked_url, f"gave up after {attempts} attempts: {last_reason}")

    def _backoff(self, attempt: int) -> float:
        # Full jitter keeps many clients that failed together from retrying together.
        return random.uniform(0, self.settings.backoff_base * (2**attempt))

    def _get_once(self, asked_url: str, url: str, headers: dict[str, str]) -> FetchResult:
        timeout = self.settings.timeout
        limit = self.settings.max_body_bytes
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
            if self.recorder is not None:
                self.recorder(response.request, result)
            return result


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
