"""Everything a run opens, in one place: settings, lake, raw archive recorder and reader, fetchers, the model.

A flow opens one `Resources` for its run (`with Resources(settings, load_model=...) as resources:`) and hands
it to the plain functions that do the work; leaving the block closes the fetchers, seals the WARC file being
written (its records get indexed, so a reprocess sees them) and closes the archive reader. Nothing here is
cached per process: two runs in one process (a served deployment) each open and close their own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from wirestance.archive.reader import ArchiveReader
from wirestance.archive.recorder import ArchiveRecorder
from wirestance.durable import remove_stale_temporaries
from wirestance.fetch import PoliteFetcher
from wirestance.identity import PageClaim
from wirestance.settings import Settings
from wirestance.sources.base import Source

if TYPE_CHECKING:
    from wirestance.lake import Lake

log = logging.getLogger(__name__)


class StanceLabeller(Protocol):
    """What the pipeline needs of a model (classifiers.predict.StanceModel provides it)."""

    version: str

    def predict(self, texts: Sequence[str]) -> Any: ...


#: How a run gets its model: the flows pass the classifiers' champion loader (the core cannot import it).
ModelLoader = Callable[[Settings], StanceLabeller]


class Resources:
    """The shared state of one run. Fetchers are shared by every task of the run, so the per-host delay,
    Retry-After and robots.txt hold across them; the model is loaded once, when first asked for."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        load_model: ModelLoader | None = None,
        model: StanceLabeller | None = None,
        archive: bool = True,
    ) -> None:
        """`load_model` loads the run's model on first use (or pass a loaded `model`); `archive=False` records
        no response in the raw archive."""
        self.settings = settings or Settings.from_env()
        # Temporary files of writes a killed process left behind (its lake or archive files are whole).
        for root in (self.settings.lake_url, self.settings.raw_url):
            try:
                remove_stale_temporaries(root)
            except Exception as exc:  # a root we cannot list is not a reason not to run
                log.warning("could not look for stale temporary files under %s: %s", root, exc)
        # Imported here, when a run opens its resources: importing this module (as reprocess worker
        # processes do, through the pipeline) loads no deltalake (see wirestance/lake/__init__.py).
        from wirestance.lake import Lake

        self.lake: Lake = Lake(self.settings.lake_url)
        #: Every response of this run's fetchers goes to the raw WARC archive (reprocess reads it).
        self.recorder: ArchiveRecorder | None = ArchiveRecorder(self.settings, lake=self.lake) if archive else None
        self._load_model = load_model
        self._model = model
        self._reader: ArchiveReader | None = None
        self._fetchers: dict[tuple[Any, ...], PoliteFetcher] = {}
        self._lock = threading.Lock()
        self._model_lock = threading.Lock()
        #: The page kept so far for each (source, article_id) of this run, so another page with the same
        #: identity in a later batch is judged by the same rule (`pipeline.one_page_per_article`).
        self.kept_pages: dict[tuple[str, str], PageClaim] = {}

    @property
    def model(self) -> StanceLabeller:
        """The run's model, loaded once (tasks in threads asking at once wait for the one load)."""
        with self._model_lock:
            if self._model is None:
                if self._load_model is None:
                    raise RuntimeError("these resources were opened without a model or a model loader")
                self._model = self._load_model(self.settings)
            return self._model

    def fetcher(self, source: Source, base_url: str | None = None) -> PoliteFetcher:
        """The run's fetcher for a source's domains (plus the host of `base_url`, a mirror or the sample)."""
        domains = list(source.allowed_domains)
        if base_url:
            domains.append((urlsplit(base_url).hostname or "").lower())
        # The source's own politeness overrides (sources.toml), if it sets any.
        return self.fetcher_for(
            ("source", source.name, base_url), domains, settings=source.politeness.apply(self.settings)
        )

    def fetcher_for(
        self, key: tuple[Any, ...], hosts: Sequence[str], *, obey_robots: bool = True, settings: Settings | None = None
    ) -> PoliteFetcher:
        """The run's fetcher named `key` for `hosts` (made on first use), recording into the raw archive."""
        with self._lock:
            if key not in self._fetchers:
                self._fetchers[key] = PoliteFetcher(
                    settings or self.settings, list(hosts), obey_robots=obey_robots, recorder=self.recorder
                )
            return self._fetchers[key]

    @property
    def reader(self) -> ArchiveReader:
        """A reader of the raw archive (opened on first use, closed with the resources)."""
        with self._lock:
            if self._reader is None:
                self._reader = ArchiveReader(self.settings.raw_url, self.lake)
            return self._reader

    def flush(self) -> None:
        """Seal the WARC file being written, so its records are indexed and readers see them. A failure (a
        full disk) is logged, not raised: the file stays whole and the next start seals it."""
        if self.recorder is None:
            return
        try:
            self.recorder.flush()
        except Exception as exc:
            log.error("could not seal the raw archive file (the next start will): %s: %s", type(exc).__name__, exc)

    def close(self) -> None:
        with self._lock:
            fetchers, self._fetchers = list(self._fetchers.values()), {}
            reader, self._reader = self._reader, None
        for fetcher in fetchers:
            fetcher.close()
        self.flush()
        if reader is not None:
            reader.close()

    def __enter__(self) -> Resources:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
