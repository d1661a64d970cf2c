from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from archive_fixtures import archive_server, config, loopback_only, model, settings
from registry_copy import copy_registry

from wirestance.replay import ReplayServer, ReplaySite

# The archive fixtures, for the flows that read the raw archive or past-date discovery (backfill, reprocess).
__all__ = ["archive_server", "config", "loopback_only", "model", "settings"]

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "anadolu_en"


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory, labeled_champion: Path) -> Path:
    """A model registry for the session, so tests never write into the checkout's data/models."""
    return copy_registry(labeled_champion, tmp_path_factory.mktemp("models"))


@pytest.fixture
def lake_env(tmp_path: Path, models_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    lake = tmp_path / "lake"
    monkeypatch.setenv("WIRESTANCE_LAKE_URL", str(lake))
    monkeypatch.setenv("WIRESTANCE_RAW_URL", str(tmp_path / "raw"))
    monkeypatch.setenv("WIRESTANCE_MODELS_DIR", str(models_dir))
    monkeypatch.setenv("WIRESTANCE_PER_HOST_DELAY", "0")
    monkeypatch.setenv("WIRESTANCE_TIMEOUT", "1")
    monkeypatch.setenv("WIRESTANCE_BACKOFF_BASE", "0.01")
    return lake


@pytest.fixture
def sample_with_bad_feed(tmp_path: Path) -> ReplaySite:
    """The sample site plus a feed listing an index page, a missing page, an off-site link and one article."""
    folder = tmp_path / "site"
    shutil.copytree(SAMPLE, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    seed_path = next(r["path"] for r in manifest["routes"] if r["path"].endswith("/1656284"))
    items = [
        ("Index", "https://www.aa.com.tr/en/politics"),
        ("Gone", "https://www.aa.com.tr/en/politics/gone-story/1999999"),
        ("Elsewhere", "https://evil.example.net/en/politics/x/1"),
        ("Seed", "https://www.aa.com.tr" + seed_path),
    ]
    body = "".join(
        f"<item><title>{t}</title><link>{u}</link><pubDate>Tue, 26 Nov 2019 12:00:00 +0300</pubDate></item>"
        for t, u in items
    )
    (folder / "feeds" / "bad.xml").write_text(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>bad</title>{body}</channel></rss>'
    )
    manifest["routes"].append(
        {"path": "/en/rss/default?cat=bad", "file": "feeds/bad.xml", "content_type": "application/rss+xml"}
    )
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return ReplaySite(folder)


@pytest.fixture
def sample_server() -> Iterator[ReplayServer]:
    with ReplayServer(ReplaySite(SAMPLE), slow_seconds=2.5) as server:
        yield server
