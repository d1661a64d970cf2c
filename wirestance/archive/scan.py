"""Reading WARC files member by member, tolerating damage: a cut or corrupt record is reported with its file
and offset and skipped, and reading goes on at the next intact gzip member."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from wirestance.archive.records import MAX_RECORD_BYTES, BadRecord, ParsedRecord, parse_record

CHUNK = 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b\x08"


@dataclass(frozen=True)
class WarcProblem:
    file: str
    offset: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file} at offset {self.offset}: {self.reason}"


@dataclass(frozen=True)
class ScannedRecord:
    file: str
    offset: int  # of its gzip member
    length: int  # of its gzip member
    record: ParsedRecord


def iter_members(handle: BinaryIO, name: str) -> Iterator[tuple[int, int, bytes] | WarcProblem]:
    """(offset, compressed length, uncompressed bytes) of each gzip member of a seekable file, or a
    WarcProblem where one is damaged (reading resumes at the next gzip header) or cut (reading stops)."""
    pos = 0
    handle.seek(0)
    pending = b""  # bytes of the file from `pos` on, already read
    while True:
        if not pending:
            pending = handle.read(CHUNK)
            if not pending:
                return
        inflater = zlib.decompressobj(wbits=31)
        parts: list[bytes] = []
        size = 0
        fed = 0
        failure: str | None = None
        data = pending
        while True:
            fed += len(data)
            try:
                out = inflater.decompress(data)
            except zlib.error as exc:
                failure = f"damaged gzip data: {exc}"
                break
            size += len(out)
            if size > MAX_RECORD_BYTES:
                failure = f"record expands past {MAX_RECORD_BYTES} bytes"
                break
            parts.append(out)
            if inflater.eof:
                break
            data = handle.read(CHUNK)
            if not data:
                yield WarcProblem(name, pos, f"truncated record: the file ends {fed} bytes into it")
                return
        if failure is not None:
            yield WarcProblem(name, pos, failure)
            resume = _next_member(handle, pos + 1)
            if resume is None:
                return
            pos, pending = resume, b""
            handle.seek(pos)
            continue
        length = fed - len(inflater.unused_data)
        yield pos, length, b"".join(parts)
        pos += length
        pending = inflater.unused_data


def scan_warc(handle: BinaryIO, name: str) -> Iterator[ScannedRecord | WarcProblem]:
    """Every record of a WARC file (gzip per record), problems in place of the damaged ones."""
    for item in iter_members(handle, name):
        if isinstance(item, WarcProblem):
            yield item
            continue
        offset, length, raw = item
        try:
            yield ScannedRecord(name, offset, length, parse_record(raw))
        except BadRecord as exc:
            yield WarcProblem(name, offset, str(exc))


def _next_member(handle: BinaryIO, start: int) -> int | None:
    """Offset of the next gzip header at or after `start`, or None."""
    handle.seek(start)
    base = start
    tail = b""
    while True:
        data = handle.read(CHUNK)
        if not data:
            return None
        window = tail + data
        found = window.find(_GZIP_MAGIC)
        if found >= 0:
            return base - len(tail) + found
        tail = window[-(len(_GZIP_MAGIC) - 1) :]
        base += len(data)
