"""The backfill without Prefect: the archive fixtures, and the bundled sample site on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from archive_fixtures import archive_server, config, loopback_only, model, settings

from wirestance.replay import ReplayServer, ReplaySite

__all__ = ["archive_server", "config", "loopback_only", "model", "settings"]

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "anadolu_en"


@pytest.fixture
def sample_server() -> Iterator[ReplayServer]:
    with ReplayServer(ReplaySite(SAMPLE)) as server:
        yield server
