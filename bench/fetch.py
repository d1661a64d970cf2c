"""Fetch over loopback: the ingest pipeline against a bare `requests.get` loop over the same article URLs.

The ingest is what the `ingest` flow's tasks run (discover the feeds, then fetch + parse + label + store
+ archive in batches), with the politeness delay at 0; Prefect's own cost is measured by the e2e part.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import requests

from bench.corpus import build_replay_site
from bench.env import Sandbox
from bench.results import Results, ratio
from wirestance.lake.store import iter_batches
from wirestance.pipeline import StanceLabeller, Window, discover, process_batch
from wirestance.resources import Resources
from wirestance.settings import Settings

_ALL_TIME = Window(datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


@contextmanager
def replay_server(site: Path, sandbox: Sandbox) -> Iterator[str]:
    """The base URL of `site` served by a child process on 127.0.0.1."""
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.replay_serve", str(site)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=sandbox.environ(),
        text=True,
    )
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().strip()
        if not base_url.startswith("http://127."):
            raise RuntimeError(f"the replay server did not start (said {base_url!r})")
        yield base_url
    finally:
        assert server.stdin is not None
        server.stdin.close()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def ingest(settings: Settings, base_url: str, model: StanceLabeller) -> tuple[int, list[str], float]:
    """Ingest everything the site's feeds list; (articles stored, their URLs, seconds)."""
    started = time.perf_counter()
    with Resources(settings) as resources:
        found = discover(resources, "anadolu", None, _ALL_TIME, base_url)
        urls = [item.url for item in found.items]
        stored = 0
        for batch in iter_batches(urls, settings.batch_size):
            outcome = process_batch(resources, "anadolu", batch, model, base_url)
            stored += outcome.counts.new + outcome.counts.updated + outcome.counts.unchanged
    return stored, urls, time.perf_counter() - started


def bare_requests(urls: list[str]) -> float:
    """Seconds for a plain `requests.get` of each URL in turn, body read."""
    started = time.perf_counter()
    for url in urls:
        response = requests.get(url, timeout=10)
        response.raise_for_status()
        _ = response.content
    return time.perf_counter() - started


def run(results: Results, sandbox: Sandbox, pages: int, seed: int, model: StanceLabeller) -> None:
    site = build_replay_site(sandbox.root / "site", pages, seed)
    settings = Settings.from_env(
        lake_url=str(sandbox.root / "fetch-lake"),
        raw_url=str(sandbox.root / "fetch-raw"),
        per_host_delay=0.0,
    )
    with replay_server(site, sandbox) as base_url:
        stored, urls, seconds = ingest(settings, base_url, model)
        if stored != pages:
            raise RuntimeError(f"fetch: the ingest stored {stored} of {pages} articles")
        bare = bare_requests(urls)
    ours, floor = stored / seconds, len(urls) / bare
    results.note(
        f"fetch: {pages} articles over loopback, per-host delay 0, per-host concurrency "
        f"{settings.per_host_concurrency}; the ingest also parses, labels, stores and archives each page"
    )
    results.add("fetch_articles_per_s", ours, "ingest pipeline from the loopback replay server")
    results.add("fetch_requests_articles_per_s", floor, "bare requests.get loop over the same URLs")
    results.add("fetch_ratio_vs_requests", ratio(ours, floor), "ours / bare requests")
