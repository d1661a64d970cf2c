"""`ArchiveRecorder`: the PoliteFetcher recorder hook that writes every exchange to the raw WARC archive."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

import requests

from wirestance.archive.writer import DEFAULT_MAX_FILE_BYTES, Exchange, RecoveryReport, WarcWriter
from wirestance.fetch import FetchResult, RecordingError
from wirestance.settings import Settings

if TYPE_CHECKING:
    from wirestance.lake import Lake


class ArchiveRecorder:
    """Use as `PoliteFetcher(..., recorder=ArchiveRecorder(settings))`; share one per process and raw root.

    A response that cannot be archived fails its fetch (RecordingError, a FetchError that says the archive
    failed, never the host): a page in the lake whose raw copy is missing could not be reprocessed later.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        lake: Lake | None = None,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        dedupe: bool = True,
    ) -> None:
        if lake is None:
            from wirestance.lake import Lake  # loaded when a recorder opens, not when this module is imported

            lake = Lake(settings.lake_url)
        self.writer = WarcWriter(settings.raw_url, lake, max_file_bytes=max_file_bytes, dedupe=dedupe)
        # Seal the open file when the recorder is dropped or the interpreter exits normally.
        self._finalizer = weakref.finalize(self, self.writer.close)

    def __call__(self, request: requests.PreparedRequest, result: FetchResult) -> None:
        body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
        exchange = Exchange(
            method=request.method or "GET",
            url=request.url or result.final_url,
            request_headers=dict(request.headers),
            request_body=body,
            status=result.status,
            headers=result.headers,
            body=result.body,
            fetched_at=result.fetched_at,
            asked_url=result.url,
        )
        try:
            self.writer.write(exchange)
        except Exception as exc:
            raise RecordingError(result.url, f"raw archive write failed: {type(exc).__name__}: {exc}") from exc

    def flush(self) -> None:
        """Seal the current WARC file so readers (a reprocess) see everything recorded so far."""
        self.writer.flush()

    def close(self) -> None:
        self._finalizer()

    def recover(self) -> list[RecoveryReport]:
        return self.writer.recover()

    def __enter__(self) -> ArchiveRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
