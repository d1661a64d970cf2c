"""One run's resources: the model is loaded once whatever the number of batches, fetchers are shared by the
run's tasks, and closing seals the raw archive so a reader sees what the run fetched."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from stand_ins import FakeModel

from wirestance.ingest import IngestRequest, ingest_window
from wirestance.lake import Lake
from wirestance.pipeline import Window
from wirestance.replay import ReplayServer
from wirestance.resources import Resources
from wirestance.settings import Settings
from wirestance.sources import get_source

ALL_TIME = Window(datetime(2000, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))
SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "anadolu_en"


class CountingLoader:
    """A model loader that counts its calls (the champion loader costs ~0.2 s a call)."""

    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, settings: Settings) -> FakeModel:
        with self._lock:
            self.calls += 1
        return FakeModel(f"loaded-{self.calls}")


def test_the_model_is_loaded_once_for_every_batch_of_a_run(settings: Settings, sample_server: ReplayServer):
    loader = CountingLoader()
    small_batches = replace(settings, batch_size=3)
    articles = len(json.loads((SAMPLE / "articles.json").read_text()))
    assert articles > 2 * small_batches.batch_size  # several batches
    with Resources(small_batches, load_model=loader) as resources:
        request = IngestRequest(ALL_TIME, feed_base_url=sample_server.base_url)
        (report,) = ingest_window(resources, request, "run-1")
    assert loader.calls == 1
    assert report.counts.new == report.discovered == articles and not report.failures
    versions = set(Lake(settings.lake_url).read("paragraphs").column("model_version").to_pylist())
    assert versions == {"loaded-1"}


def test_threads_asking_at_once_share_one_load(settings: Settings):
    loader = CountingLoader()
    with Resources(settings, load_model=loader, archive=False) as resources, ThreadPoolExecutor(8) as pool:
        models = list(pool.map(lambda _: resources.model, range(32)))
    assert loader.calls == 1 and len({id(m) for m in models}) == 1


def test_without_a_model_or_loader_asking_for_one_is_an_error(settings: Settings):
    with Resources(settings, archive=False) as resources, pytest.raises(RuntimeError, match="without a model"):
        _ = resources.model


def test_one_fetcher_per_source_and_origin_closed_with_the_run(settings: Settings, sample_server: ReplayServer):
    source = get_source("anadolu")
    with Resources(settings, archive=False) as resources:
        fetcher = resources.fetcher(source, sample_server.base_url)
        assert resources.fetcher(source, sample_server.base_url) is fetcher
        assert resources.fetcher(source, None) is not fetcher
        assert "127.0.0.1" in fetcher.allowed_domains
    with Resources(settings, archive=False) as again:
        assert again.fetcher(source, sample_server.base_url) is not fetcher  # nothing cached per process


def test_closing_seals_the_archive_so_the_reader_sees_the_run(settings: Settings, sample_server: ReplayServer):
    with Resources(settings, model=FakeModel()) as resources:
        ingest_window(resources, IngestRequest(ALL_TIME, feed_base_url=sample_server.base_url), "run-1")
    with Resources(settings, archive=False) as later:
        urls = {response.url for response in later.reader.responses(domains=["127.0.0.1"])}
    assert any(url.endswith("/1656284") for url in urls)
