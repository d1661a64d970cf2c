"""Fixtures of the deployment tests; the helpers are in deploy_support.py."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_copy import copy_registry

sys.path.insert(0, str(Path(__file__).resolve().parent))

from deploy_support import SAMPLE

from wirestance.replay import ReplayServer, ReplaySite, wait_until_up


@pytest.fixture(scope="session")
def sample_site() -> ReplaySite:
    if not (SAMPLE / "manifest.json").is_file():
        pytest.skip(f"the offline sample site {SAMPLE} is missing")
    return ReplaySite(SAMPLE)


@pytest.fixture(scope="session")
def replay(sample_site: ReplaySite) -> Iterator[ReplayServer]:
    with ReplayServer(sample_site) as server:
        wait_until_up(server.base_url)
        yield server


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory, labeled_champion: Path) -> Path:
    """One model registry for all runs, holding the session's first champion (tests/conftest.py)."""
    return copy_registry(labeled_champion, tmp_path_factory.mktemp("models"))
