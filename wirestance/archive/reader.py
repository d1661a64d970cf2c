"""Archived responses back out of the raw archive: by the lake's `raw_index`, for a fetch-time window and
a source's domains, revisits resolved to the payload they refer to, web-archive captures unwrapped.

Damaged or missing records are reported (file and offset) in `ArchiveReader.problems` and skipped.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, BinaryIO

import fsspec
import pyarrow as pa
import pyarrow.compute as pc

from wirestance.archive import records
from wirestance.archive.scan import WarcProblem
from wirestance.archive.writer import OPEN_DIR, OPEN_SUFFIX
from wirestance.urls import parse_wayback, url_key

if TYPE_CHECKING:
    from wirestance.lake import Lake

_MAX_OPEN_FILES = 32
_ROWS_PER_SLICE = 1024
#: What `responses` reads of each index row (the URLs come from the records themselves).
_RESPONSE_COLUMNS = ["status", "payload_digest", "record_id", "file", "offset", "length"]
_INDEX_COLUMNS = [
    "url",
    "url_key",
    "host",
    "fetch_time",
    "status",
    "payload_digest",
    "record_type",
    "record_id",
    "file",
    "offset",
    "length",
]


@dataclass(frozen=True)
class ArchivedResponse:
    url: str  # the page's own URL: the URL asked for, or the original URL of a web-archive capture
    url_key: str  # the page's dedup key (wirestance.urls.url_key)
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes
    fetched_at: datetime  # when we fetched it (WARC-Date)
    capture_time: datetime | None  # when a web archive captured it, for captures
    capture_origin: str | None  # "wayback" | "commoncrawl" for captures, None for the live site
    file: str
    offset: int

    @property
    def declared_charset(self) -> str | None:
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip('"').lower()
        return None


class ArchiveReader:
    def __init__(self, raw_url: str, lake: Lake | str) -> None:
        """`lake`: the lake holding the raw index, or its URL, opened when the index is first read (a
        worker process that reads records by their index rows may never need it)."""
        self.raw_url = raw_url
        self._lake = lake
        self.fs, self.root = fsspec.core.url_to_fs(raw_url)
        self.problems: list[WarcProblem] = []
        self._handles: dict[str, BinaryIO | None] = {}
        self._payloads: dict[str, tuple[str, int, int]] | None = None

    @property
    def lake(self) -> Lake:
        if isinstance(self._lake, str):
            from wirestance.lake import Lake

            self._lake = Lake(self._lake)
        return self._lake

    def close(self) -> None:
        for handle in self._handles.values():
            if handle is not None:
                handle.close()
        self._handles.clear()

    def __enter__(self) -> ArchiveReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def index(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        domains: Sequence[str] | None = None,
        columns: Sequence[str] = _INDEX_COLUMNS,
    ) -> pa.Table:
        """Index rows fetched in [since, until) whose page is on `domains` (or subdomains), by fetch time."""
        table = self._scan(since, until, domains, None, columns)
        return table.take(_fetch_order(table)).select(list(columns))

    def responses(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        domains: Sequence[str] | None = None,
    ) -> Iterator[ArchivedResponse]:
        """Pages answered 200 (directly or inside a web-archive capture), oldest fetch first."""
        for rows in self.response_rows(since, until, domains):
            for row in rows:
                response = self.response(row)
                if response is not None and response.status == 200:
                    yield response

    def response_rows(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        domains: Sequence[str] | None = None,
    ) -> Iterator[list[dict]]:
        """The index rows behind `responses`, in fetch order, a slice at a time: each row can be read with
        `response(row)`, here or by another reader of the same archive (a worker process)."""
        table = self._scan(since, until, domains, (200, 206), _RESPONSE_COLUMNS)
        order = _fetch_order(table)
        # Rows are taken in fetch order and made Python objects a slice at a time: memory holds one
        # copy of the (filtered) index columns, never a sorted copy or the whole index as objects.
        for start in range(0, len(order), _ROWS_PER_SLICE):
            yield table.take(order[start : start + _ROWS_PER_SLICE]).to_pylist()

    def _scan(
        self,
        since: datetime | None,
        until: datetime | None,
        domains: Sequence[str] | None,
        statuses: Sequence[int] | None,
        columns: Sequence[str],
    ) -> pa.Table:
        """Index rows matching the conditions (filtered while the files are read), in no particular order."""
        conditions = []
        if since is not None:
            conditions.append(pc.field("fetch_time") >= pa.scalar(since, pa.timestamp("us", tz="UTC")))
        if until is not None:
            conditions.append(pc.field("fetch_time") < pa.scalar(until, pa.timestamp("us", tz="UTC")))
        if domains is not None:
            conditions.append(_on_domains([d.lower() for d in domains]))
        if statuses is not None:
            conditions.append(pc.field("status").isin(pa.array(statuses, pa.int16())))
        condition = None
        for part in conditions:
            condition = part if condition is None else condition & part
        needed = list(dict.fromkeys([*columns, "fetch_time", "file", "offset"]))
        return self.lake.read("raw_index", filter=condition, columns=needed)

    def read_record(self, file: str, offset: int, length: int) -> records.ParsedRecord | WarcProblem:
        handle = self._open(file)
        if handle is None:
            return WarcProblem(file, offset, "file missing")
        try:
            handle.seek(offset)
            data = handle.read(length)
        except OSError as exc:
            return WarcProblem(file, offset, f"unreadable: {exc}")
        if len(data) < length:
            return WarcProblem(file, offset, f"truncated record: {len(data)} of {length} bytes present")
        try:
            return records.parse_record(records.gunzip_member(data))
        except records.BadRecord as exc:
            return WarcProblem(file, offset, str(exc))

    # -- internals ------------------------------------------------------------------------------------

    def response(self, row: dict) -> ArchivedResponse | None:
        """The response an index row (of `response_rows`) points to; None, with a problem noted, if damaged."""
        record = self._checked(row["file"], row["offset"], row["length"], row["record_id"])
        if record is None:
            return None
        body = record.payload
        if record.rec_type == "revisit":
            where = self._payload_locations().get(row["payload_digest"])
            if where is None:
                self.problems.append(WarcProblem(row["file"], row["offset"], "revisit of a payload not in the index"))
                return None
            original = self._checked(*where, None)
            if original is None:
                return None
            body = original.payload
            if records.payload_digest(body) != row["payload_digest"]:
                self.problems.append(WarcProblem(where[0], where[1], "payload does not match its digest"))
                return None
        asked = record.header(records.ASKED_URI_HEADER) or record.target_uri
        status, headers = record.status or 0, record.http_headers
        capture_time: datetime | None = None
        origin: str | None = None
        page_url = asked
        wayback = parse_wayback(record.target_uri)
        if wayback is not None:
            page_url, capture_time, origin = wayback.original, wayback.capture_time, "wayback"
        elif status == 206:
            inner = records.unwrap_warc_capture(body)
            if inner is None:
                return None  # a range answer that is not a WARC record: nothing we asked for as a page
            page_url, capture_time, origin = inner.target_uri, inner.date, "commoncrawl"
            status, headers, body = inner.status or 0, inner.http_headers, inner.payload
        return ArchivedResponse(
            url=page_url,
            url_key=url_key(page_url),
            status=status,
            headers=headers,
            body=body,
            fetched_at=record.date,
            capture_time=capture_time,
            capture_origin=origin,
            file=row["file"],
            offset=row["offset"],
        )

    def _checked(self, file: str, offset: int, length: int, record_id: str | None) -> records.ParsedRecord | None:
        found = self.read_record(file, offset, length)
        if isinstance(found, WarcProblem):
            self.problems.append(found)
            return None
        if record_id is not None and found.record_id != record_id:
            self.problems.append(
                WarcProblem(file, offset, f"holds record {found.record_id}, the index says {record_id}")
            )
            return None
        return found

    def _payload_locations(self) -> dict[str, tuple[str, int, int]]:
        """Where each payload is stored whole; read on the first revisit (an archive may have none)."""
        if self._payloads is None:
            table = self.lake.read("raw_index", columns=["payload_digest", "record_type", "file", "offset", "length"])
            table = table.filter(pc.equal(table["record_type"], "response"))
            columns = table.to_pydict()
            self._payloads = {
                digest: (file, offset, length)
                for digest, file, offset, length in zip(
                    columns["payload_digest"], columns["file"], columns["offset"], columns["length"], strict=True
                )
            }
        return self._payloads

    def _open(self, file: str) -> BinaryIO | None:
        if file not in self._handles:
            if len(self._handles) >= _MAX_OPEN_FILES:  # rows come in time order, so old files are done
                oldest = next(iter(self._handles))
                closing = self._handles.pop(oldest)
                if closing is not None:
                    closing.close()
            handle: BinaryIO | None = None
            # Between indexing and the rename that seals it, a file is still in the open folder.
            name = file.rsplit("/", 1)[-1]
            for path in (f"{self.root}/{file}", f"{self.root}/{OPEN_DIR}/{name}{OPEN_SUFFIX}"):
                try:
                    handle = self.fs.open(path, "rb")
                    break
                except FileNotFoundError:
                    continue
            self._handles[file] = handle
        return self._handles[file]


def _on_domains(domains: list[str]) -> pc.Expression:
    """The host is one of `domains` or a subdomain of one (an empty or missing host never is)."""
    host = pc.field("host")
    matches = pc.scalar(False)
    for domain in domains:
        matches = matches | (host == domain) | pc.ends_with(host, "." + domain)
    return matches & (pc.utf8_length(host) > 0)  # a null host gives null: the scan drops the row


def _fetch_order(table: pa.Table) -> pa.Array:
    """Row positions by fetch time, then file and offset (the order records were written in)."""
    return pc.sort_indices(table, [("fetch_time", "ascending"), ("file", "ascending"), ("offset", "ascending")])
