"""Rolling WARC files under Settings.raw_url, written so a crash never leaves a record that reads as whole.

Layout (any fsspec URL; object stores get whole files by one upload):

    <raw>/_open/<name>.warc.gz.open    the file being written (local raw roots; else a local spool folder)
    <raw>/YYYY-MM-DD/<name>.warc.gz     sealed files, one day of fetch times each, at most `max_file_bytes`

Each request/response pair is appended as whole gzip members (one per record) and fsynced before the
fetch returns. A file is sealed on roll or close: its index rows go to the lake (`raw_index`, one
commit per WARC file, replacing any earlier rows of it), then the file is renamed into its day folder, so every
sealed file is indexed. A process killed mid-write leaves a `.open` file whose last member is cut; the
next writer on the same raw root finds it (its lock is free), cuts the partial member off, indexes and
seals the rest.
"""

from __future__ import annotations

import fcntl
import logging
import os
import tempfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from hashlib import sha1
from typing import TYPE_CHECKING, BinaryIO

import fsspec
import pyarrow.compute as pc

from wirestance import __version__
from wirestance.archive import records
from wirestance.archive.scan import WarcProblem, iter_members
from wirestance.durable import fsync_dir
from wirestance.urls import host_of, url_key

if TYPE_CHECKING:
    from wirestance.lake import Lake

log = logging.getLogger(__name__)

SEALED_SUFFIX = ".warc.gz"
OPEN_SUFFIX = ".open"
OPEN_DIR = "_open"
DEFAULT_MAX_FILE_BYTES = 1024**3  # the customary WARC file size


@dataclass(frozen=True)
class Exchange:
    """One request and the response to it, as the fetcher saw them."""

    method: str
    url: str  # the URL of this hop (after redirects)
    request_headers: dict[str, str]
    request_body: bytes | None
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes  # decoded from its Content-Encoding
    fetched_at: datetime
    asked_url: str | None = None  # the URL first asked for, when redirects led to `url`


@dataclass(frozen=True)
class RecoveryReport:
    file: str  # relative to the raw root
    records: int
    cut_at: int | None  # offset of the partial member cut off, if any
    cut_bytes: int
    reason: str | None


@dataclass
class _OpenFile:
    day: date
    name: str
    path: str  # local path of the .open file
    handle: BinaryIO  # unbuffered: a failed write leaves nothing queued to reach the file later
    size: int
    rows: list[dict] = field(default_factory=list)

    @property
    def relative(self) -> str:
        return f"{self.day.isoformat()}/{self.name}"


class WarcWriter:
    def __init__(
        self,
        raw_url: str,
        lake: Lake,
        *,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        spool_dir: str | None = None,
        dedupe: bool = True,
    ) -> None:
        self.raw_url = raw_url
        self.lake = lake
        self.max_file_bytes = max_file_bytes
        self.dedupe = dedupe
        self.fs, self.root = fsspec.core.url_to_fs(raw_url)
        protocols = (self.fs.protocol,) if isinstance(self.fs.protocol, str) else tuple(self.fs.protocol)
        self._local = "file" in protocols
        if self._local:
            self.spool = os.path.join(self.root, OPEN_DIR)  # same file system: sealing is a rename
        else:
            key = sha1(raw_url.encode()).hexdigest()[:12]
            self.spool = spool_dir or os.path.join(tempfile.gettempdir(), "wirestance-warc-spool", key)
        self._lock = threading.Lock()
        self._current: _OpenFile | None = None
        self._digests: dict[str, tuple[str, str, str]] | None = None
        self._recovered = False
        self.recovery: list[RecoveryReport] = []

    # -- public -------------------------------------------------------------------------------------

    def write(self, exchange: Exchange) -> dict:
        """Append the exchange (request + response, or request + revisit) and return its index row."""
        with self._lock:
            if not self._recovered:
                self._recover_locked()
            digest = records.payload_digest(exchange.body)
            known = self._known_digests()
            response_id = records.new_record_id()
            revisit_of = known.get(digest) if self.dedupe and exchange.body else None
            if revisit_of is not None:
                response = records.revisit_member(
                    exchange.url,
                    exchange.status,
                    exchange.headers,
                    len(exchange.body),
                    exchange.fetched_at,
                    response_id,
                    digest,
                    revisit_of,
                    exchange.asked_url,
                )
            else:
                response = records.response_member(
                    exchange.url,
                    exchange.status,
                    exchange.headers,
                    exchange.body,
                    exchange.fetched_at,
                    response_id,
                    digest,
                    exchange.asked_url,
                )
            request = records.request_member(
                exchange.method,
                exchange.url,
                exchange.request_headers,
                exchange.request_body,
                exchange.fetched_at,
                response_id,
            )
            current = self._file_for(exchange.fetched_at, len(response) + len(request))
            offset = current.size
            try:
                _write_all(current.handle, response + request)
                os.fsync(current.handle.fileno())
            except OSError:
                self._cut_back(current, offset)
                raise
            current.size += len(response) + len(request)
            key = describe(exchange.url, exchange.status, exchange.body)
            row = {
                "url": exchange.url,
                "url_key": key,
                "host": host_of(key),
                "fetch_time": exchange.fetched_at,
                "status": exchange.status,
                "content_type": exchange.headers.get("content-type"),
                "payload_digest": digest,
                "record_type": "revisit" if revisit_of is not None else "response",
                "record_id": response_id,
                "file": current.relative,
                "offset": offset,
                "length": len(response),
            }
            current.rows.append(row)
            if revisit_of is None and exchange.body:
                known[digest] = (exchange.url, records.warc_date(exchange.fetched_at), response_id)
            return row

    def flush(self) -> None:
        """Seal the file being written, making its records visible to readers and the index."""
        with self._lock:
            self._seal_current()

    def close(self) -> None:
        self.flush()

    def _cut_back(self, current: _OpenFile, offset: int) -> None:
        """Remove what a failed write left after `offset`; if the file cannot even be cut, give it up to
        recovery (its lock is released with the handle) so the next record goes to a new file."""
        try:
            os.ftruncate(current.handle.fileno(), offset)
            current.handle.seek(offset)
            os.fsync(current.handle.fileno())
        except OSError as exc:
            log.error("could not cut %s back to %d bytes (%s); a later start recovers it", current.path, offset, exc)
            self._current = None
            self._recovered = False
            current.handle.close()

    def recover(self) -> list[RecoveryReport]:
        """Seal the `.open` files that writers which died left behind (their locks are free)."""
        with self._lock:
            return self._recover_locked()

    # -- files --------------------------------------------------------------------------------------

    def _file_for(self, moment: datetime, incoming: int) -> _OpenFile:
        day = moment.astimezone(UTC).date()
        current = self._current
        if current is not None and (
            current.day != day or (current.rows and current.size + incoming > self.max_file_bytes)
        ):
            self._seal_current()
            current = None
        if current is None:
            current = self._open_new(moment)
            self._current = current
        return current

    def _open_new(self, moment: datetime) -> _OpenFile:
        os.makedirs(self.spool, exist_ok=True)
        stamp = moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S")
        name = f"wirestance-{stamp}Z-{os.getpid()}-{uuid.uuid4().hex[:8]}{SEALED_SUFFIX}"
        path = os.path.join(self.spool, name + OPEN_SUFFIX)
        handle = open(path, "xb", buffering=0)  # noqa: SIM115 - held open until sealed, closed in _seal
        try:
            # The lock tells a recovering writer that this file's owner is alive.
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            info = records.warcinfo_member(name, f"wirestance/{__version__} (warcio)")
            _write_all(handle, info)
            os.fsync(handle.fileno())
        except OSError:
            handle.close()
            os.remove(path)  # holds at most a cut warcinfo record
            raise
        return _OpenFile(day=moment.astimezone(UTC).date(), name=name, path=path, handle=handle, size=len(info))

    def _seal_current(self) -> None:
        current, self._current = self._current, None
        if current is not None:
            self._seal(current)

    def _seal(self, current: _OpenFile) -> None:
        try:
            if current.rows:
                # Index first: a crash before the rename leaves an indexed .open file that recovery seals
                # (rewriting the same index file), never a sealed file without index rows.
                self.lake.put_raw_index(current.rows, current.day, current.name.removesuffix(SEALED_SUFFIX))
            self._publish(current)
        except Exception:
            self._recovered = False  # the .open file stays whole: the next write tries to seal it again
            raise
        finally:
            current.handle.close()

    def _publish(self, current: _OpenFile) -> None:
        if not current.rows:
            os.remove(current.path)  # a file holding only its warcinfo record is no use to anyone
            return
        final = f"{self.root}/{current.relative}"
        if self._local:
            os.makedirs(os.path.dirname(final), exist_ok=True)
            os.replace(current.path, final)
            fsync_dir(os.path.dirname(final))
            fsync_dir(self.spool)
        else:
            self.fs.makedirs(f"{self.root}/{current.day.isoformat()}", exist_ok=True)
            self.fs.put_file(current.path, final)  # one upload: the object appears whole
            os.remove(current.path)

    # -- recovery -----------------------------------------------------------------------------------

    def _recover_locked(self) -> list[RecoveryReport]:
        self._recovered = True
        if not os.path.isdir(self.spool):
            return []
        reports = []
        for entry in sorted(os.listdir(self.spool)):
            if not entry.endswith(SEALED_SUFFIX + OPEN_SUFFIX):
                continue
            if self._current is not None and entry == self._current.name + OPEN_SUFFIX:
                continue
            try:
                report = self._recover_file(os.path.join(self.spool, entry))
            except Exception as exc:  # e.g. a full disk: the file stays as it is for the next start
                log.error("could not recover %s: %s: %s", entry, type(exc).__name__, exc)
                self._recovered = True
                continue
            if report is not None:
                reports.append(report)
                log.warning("recovered %s: %s", report.file, report)
        self.recovery.extend(reports)
        return reports

    def _recover_file(self, path: str) -> RecoveryReport | None:
        try:
            handle = open(path, "r+b")  # noqa: SIM115 - closed by _seal
        except FileNotFoundError:
            return None  # sealed by its owner meanwhile
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return None  # its writer is alive
        name = os.path.basename(path).removesuffix(OPEN_SUFFIX)
        day = datetime.strptime(name.split("-")[1][:8], "%Y%m%d").date()
        current = _OpenFile(day=day, name=name, path=path, handle=handle, size=0)
        problem: WarcProblem | None = None
        with open(path, "rb") as reader:
            for item in iter_members(reader, current.relative):
                if isinstance(item, WarcProblem):
                    problem = item
                    break  # our writer only appends, so nothing whole can follow a damaged member
                offset, length, raw = item
                current.size = offset + length
                row = _row_from_member(raw, current.relative, offset, length)
                if row is not None:
                    current.rows.append(row)
        total = os.path.getsize(path)
        if current.size < total:
            handle.truncate(current.size)
            handle.flush()
            os.fsync(handle.fileno())
        self._seal(current)
        return RecoveryReport(
            file=current.relative,
            records=len(current.rows),
            cut_at=current.size if current.size < total else None,
            cut_bytes=total - current.size,
            reason=problem.reason if problem else None,
        )

    def _known_digests(self) -> dict[str, tuple[str, str, str]]:
        """Payload digest -> (URI, WARC-Date, record id) of a stored response, from the index."""
        if self._digests is None:
            columns = ["payload_digest", "url", "fetch_time", "record_id", "record_type"]
            table = self.lake.read("raw_index", columns=columns)
            table = table.filter(pc.equal(table["record_type"], "response"))
            self._digests = {
                row["payload_digest"]: (row["url"], records.warc_date(row["fetch_time"]), row["record_id"])
                for row in table.to_pylist()
            }
        return self._digests


def _write_all(handle: BinaryIO, data: bytes) -> None:
    """Write every byte through an unbuffered handle (a raw write may take only part of them)."""
    view = memoryview(data)
    while view:
        written = handle.write(view)
        if not written:
            raise OSError(f"wrote nothing of {len(view)} bytes")
        view = view[written:]


def describe(url: str, status: int, body: bytes) -> str:
    """The URL key of what a response holds: for a Common Crawl range answer, the page inside it."""
    if status == 206:
        inner = records.unwrap_warc_capture(body)
        if inner is not None:
            return url_key(inner.target_uri)
    return url_key(url)


def _row_from_member(raw: bytes, file: str, offset: int, length: int) -> dict | None:
    try:
        record = records.parse_record(raw)
    except records.BadRecord:
        return None
    if record.rec_type not in ("response", "revisit") or record.status is None:
        return None
    key = describe(record.target_uri, record.status, record.payload)
    return {
        "url": record.target_uri,
        "url_key": key,
        "host": host_of(key),
        "fetch_time": record.date,
        "status": record.status,
        "content_type": record.http_headers.get("content-type"),
        "payload_digest": record.header("WARC-Payload-Digest"),
        "record_type": record.rec_type,
        "record_id": record.record_id,
        "file": file,
        "offset": offset,
        "length": length,
    }


def sealed_files(raw_url: str) -> Iterator[str]:
    """Relative paths of every sealed WARC file under the raw root, oldest day first."""
    fs, root = fsspec.core.url_to_fs(raw_url)
    if not fs.exists(root):
        return
    for path in sorted(fs.glob(f"{root}/????-??-??/*{SEALED_SUFFIX}")):
        yield path[len(root.rstrip("/")) + 1 :]


def rebuild_raw_index(raw_url: str, lake: Lake) -> tuple[int, int]:
    """The lake's `raw_index` made again from the sealed WARC files alone, replacing the whole table in one
    commit (rows of files no longer there go too). Returns (files, rows)."""
    fs, root = fsspec.core.url_to_fs(raw_url)

    def index_rows() -> list[dict]:
        rows: list[dict] = []
        for relative in sealed_files(raw_url):
            with fs.open(f"{root.rstrip('/')}/{relative}", "rb") as handle:
                for item in iter_members(handle, relative):
                    if isinstance(item, WarcProblem):
                        log.warning("rebuild: %s", item)
                        break  # our writer only appends: nothing whole follows a damaged member
                    offset, length, raw = item
                    row = _row_from_member(raw, relative, offset, length)
                    if row is not None:
                        rows.append(row)
        return rows

    rows = index_rows()
    lake.replace_raw_index(rows)
    return len({row["file"] for row in rows}), len(rows)
