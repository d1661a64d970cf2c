"""Building and parsing single WARC records (warcio), each as its own gzip member.

The fetcher hands over bodies already decoded from their Content-Encoding, so the recorded HTTP headers
say what the stored bytes are: Content-Encoding, Transfer-Encoding and Content-Length of the wire are
kept under `X-Wirestance-Orig-*` names and a true Content-Length is set, or WARC readers would try to
un-gzip plain HTML.
"""

from __future__ import annotations

import base64
import hashlib
import io
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from urllib.parse import urlsplit

from warcio.exceptions import ArchiveLoadFailed
from warcio.recordbuilder import RecordBuilder
from warcio.recordloader import ArcWarcRecord, ArcWarcRecordLoader
from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParserException
from warcio.timeutils import datetime_to_iso_date, iso_date_to_datetime
from warcio.warcwriter import WARCWriter

WARC_VERSION = "WARC/1.1"  # 1.1 dates carry microseconds: the lake's fetched_at survives a round trip
#: Extension field: the URL the fetcher was asked for when redirects led elsewhere (WARC allows new fields).
ASKED_URI_HEADER = "WARC-Wirestance-Asked-URI"
_WIRE_ONLY_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})
#: No single record we write or accept is larger (the fetcher's body limit is far below).
MAX_RECORD_BYTES = 256 * 1024 * 1024


def payload_digest(body: bytes) -> str:
    """SHA-1 in base 32, the form WARC-Payload-Digest and CDX digests use."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def warc_date(moment: datetime) -> str:
    return datetime_to_iso_date(moment.astimezone(UTC).replace(tzinfo=None), use_micros=True)


def parse_warc_date(text: str) -> datetime:
    return iso_date_to_datetime(text).replace(tzinfo=UTC)


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def _gzip_record(record: ArcWarcRecord) -> bytes:
    buffer = io.BytesIO()
    WARCWriter(buffer, gzip=True, warc_version=WARC_VERSION).write_record(record)
    return buffer.getvalue()


_builder = RecordBuilder(warc_version=WARC_VERSION)


def request_member(
    method: str, url: str, headers: dict[str, str], body: bytes | None, when: datetime, concurrent_to: str
) -> bytes:
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    header_list = [("Host", parts.netloc)] + [(k, v) for k, v in headers.items() if k.lower() != "host"]
    http_headers = StatusAndHeaders(f"{method} {target} HTTP/1.1", header_list, is_http_request=True)
    payload = body or b""
    record = _builder.create_warc_record(
        url,
        "request",
        payload=io.BytesIO(payload),
        length=len(payload),
        http_headers=http_headers,
        warc_headers_dict={
            "WARC-Record-ID": new_record_id(),
            "WARC-Date": warc_date(when),
            "WARC-Concurrent-To": concurrent_to,
        },
    )
    return _gzip_record(record)


def response_http_headers(status: int, headers: dict[str, str], body_length: int) -> StatusAndHeaders:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    header_list: list[tuple[str, str]] = []
    for key, value in headers.items():
        if key.lower() in _WIRE_ONLY_HEADERS:
            header_list.append((f"X-Wirestance-Orig-{key}", value))
        else:
            header_list.append((key, value))
    header_list.append(("Content-Length", str(body_length)))
    return StatusAndHeaders(f"{status} {reason}", header_list, protocol="HTTP/1.1")


def response_member(
    url: str,
    status: int,
    headers: dict[str, str],
    body: bytes,
    when: datetime,
    record_id: str,
    digest: str,
    asked_url: str | None = None,
) -> bytes:
    warc_headers = {"WARC-Record-ID": record_id, "WARC-Date": warc_date(when), "WARC-Payload-Digest": digest}
    if asked_url and asked_url != url:
        warc_headers[ASKED_URI_HEADER] = asked_url
    record = _builder.create_warc_record(
        url,
        "response",
        payload=io.BytesIO(body),
        length=len(body),
        http_headers=response_http_headers(status, headers, len(body)),
        warc_headers_dict=warc_headers,
    )
    return _gzip_record(record)


def revisit_member(
    url: str,
    status: int,
    headers: dict[str, str],
    body_length: int,
    when: datetime,
    record_id: str,
    digest: str,
    refers_to: tuple[str, str, str],
    asked_url: str | None = None,
) -> bytes:
    """A revisit (identical-payload-digest profile): HTTP headers only, pointing at the record holding the payload.

    `refers_to` is (target URI, WARC-Date, record id) of that record.
    """
    refers_uri, refers_date, refers_id = refers_to
    warc_headers = {"WARC-Record-ID": record_id, "WARC-Date": warc_date(when), "WARC-Refers-To": refers_id}
    if asked_url and asked_url != url:
        warc_headers[ASKED_URI_HEADER] = asked_url
    record = _builder.create_revisit_record(
        url,
        digest,
        refers_uri,
        refers_date,
        http_headers=response_http_headers(status, headers, body_length),
        warc_headers_dict=warc_headers,
    )
    return _gzip_record(record)


def warcinfo_member(filename: str, software: str) -> bytes:
    record = _builder.create_warcinfo_record(
        filename, {"software": software, "format": "WARC File Format 1.1", "description": "wirestance raw archive"}
    )
    return _gzip_record(record)


# --- reading ------------------------------------------------------------------------------------------


class BadRecord(ValueError):
    """Bytes that are not one whole WARC record."""


@dataclass(frozen=True)
class ParsedRecord:
    rec_type: str
    target_uri: str
    date: datetime
    record_id: str
    warc_headers: dict[str, str]
    status: int | None  # of the HTTP response, for response and revisit records
    http_headers: dict[str, str]  # lower-cased names
    payload: bytes  # after the HTTP headers; de-chunked and decoded when `decode` was asked

    def header(self, name: str) -> str | None:
        return self.warc_headers.get(name.lower())


def gunzip_member(data: bytes) -> bytes:
    """The content of exactly one whole gzip member; BadRecord for a cut or damaged one."""
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(data, MAX_RECORD_BYTES)
    except zlib.error as exc:
        raise BadRecord(f"damaged gzip data: {exc}") from None
    if inflater.unconsumed_tail:
        raise BadRecord(f"record expands past {MAX_RECORD_BYTES} bytes")
    if not inflater.eof:
        raise BadRecord("gzip member is cut short")
    return out


def parse_record(raw: bytes, *, decode: bool = False) -> ParsedRecord:
    """One uncompressed WARC record. `decode` undoes chunking and Content-Encoding (for others' WARCs;
    ours store payloads decoded already)."""
    try:
        record = ArcWarcRecordLoader().parse_record_stream(io.BytesIO(raw), known_format="warc")
    except (ArchiveLoadFailed, StatusAndHeadersParserException, ValueError, EOFError) as exc:
        raise BadRecord(f"not a WARC record: {exc}") from None
    declared = record.rec_headers.get_header("Content-Length")
    stream = record.content_stream() if decode and record.http_headers else record.raw_stream
    try:
        payload = stream.read()
    except Exception as exc:  # warcio's decoders raise zlib, brotli or ValueError errors alike
        raise BadRecord(f"payload cannot be decoded: {type(exc).__name__}: {exc}") from None
    if declared is not None and not decode:
        head = record.http_headers.total_len if record.http_headers else 0
        if record.rec_type != "revisit" and head + len(payload) < int(declared):
            raise BadRecord(f"record block is {head + len(payload)} bytes, its Content-Length says {declared}")
    status: int | None = None
    http_headers: dict[str, str] = {}
    if record.http_headers is not None and record.rec_type in ("response", "revisit"):
        try:
            status = int(record.http_headers.get_statuscode())
        except (TypeError, ValueError):
            status = None
        http_headers = {k.lower(): v for k, v in record.http_headers.headers}
    warc_headers = {k.lower(): v for k, v in record.rec_headers.headers}
    try:
        when = parse_warc_date(warc_headers.get("warc-date", ""))
    except (ValueError, TypeError):
        raise BadRecord(f"bad WARC-Date {warc_headers.get('warc-date')!r}") from None
    return ParsedRecord(
        rec_type=record.rec_type,
        target_uri=warc_headers.get("warc-target-uri", ""),
        date=when,
        record_id=warc_headers.get("warc-record-id", ""),
        warc_headers=warc_headers,
        status=status,
        http_headers=http_headers,
        payload=payload,
    )


def unwrap_warc_capture(body: bytes) -> ParsedRecord | None:
    """The response record inside a body that is one gzipped WARC record (a Common Crawl range request),
    or None when the body is something else."""
    if body[:2] != b"\x1f\x8b":
        return None
    try:
        inner = parse_record(gunzip_member(body), decode=True)
    except BadRecord:
        return None
    return inner if inner.rec_type == "response" and inner.status is not None else None
