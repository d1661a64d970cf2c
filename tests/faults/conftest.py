"""The fault suite's fixtures: a hostile loopback server, settings on tmp folders, the champion model. The
helpers its tests share (a run of the ingest pipeline without Prefect, ...) are in tests/support/fault_run.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_run import REPO
from hostile import HostileServer
from registry_copy import copy_registry

from wirestance.pipeline import StanceLabeller
from wirestance.settings import Settings


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


@pytest.fixture(scope="session")
def fault_models_dir(tmp_path_factory: pytest.TempPathFactory, labeled_champion: Path) -> Path:
    return copy_registry(labeled_champion, tmp_path_factory.mktemp("fault-models"))


@pytest.fixture
def settings(tmp_path: Path, fault_models_dir: Path) -> Settings:
    return Settings(
        lake_url=str(tmp_path / "lake"),
        raw_url=str(tmp_path / "raw"),
        models_dir=str(fault_models_dir),
        labeled_dir=str(REPO / "data" / "labeled"),
        per_host_delay=0.0,
        per_host_concurrency=2,
        timeout=2.0,
        max_attempts=2,
        backoff_base=0.01,
        request_deadline=3.0,
        batch_size=5,
    )


@pytest.fixture(scope="session")
def champion(fault_models_dir: Path) -> StanceLabeller:
    from wirestance.classifiers.registry import load_champion

    return load_champion(Settings(models_dir=str(fault_models_dir), labeled_dir=str(REPO / "data" / "labeled")))
