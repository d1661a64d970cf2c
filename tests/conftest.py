"""Shared fixtures. One Prefect test harness per session: it takes ~10 s to start."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Helpers shared by several test folders (tests/support/*.py) import by module name.
sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# Most tests replay the Anadolu sample alone: "every enabled source" means Anadolu there (subprocesses too).
os.environ.setdefault("WIRESTANCE_SOURCES_FILE", str(FIXTURES / "sources_anadolu_only.toml"))

# Prefect sets up its console log handler on first import, bound to the sys.stderr of that moment. First
# imported inside a test that uses capsys, the handler would keep that test's capture stream and fail every
# later test that logs once the stream is closed ("I/O operation on closed file"): import it up front.
import prefect.main  # noqa: E402,F401  (prefect itself imports lazily: prefect.main sets up logging)


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """A throwaway Prefect API (SQLite in a temp dir) for tests that run flows."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def labeled_champion(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model registry holding the first champion trained from data/labeled, trained once per session
    (~50 s): test folders whose runs label with the real model start from a copy (`copy_registry`)
    instead of each training its own."""
    from wirestance.classifiers.registry import load_champion
    from wirestance.settings import Settings

    registry = tmp_path_factory.mktemp("labeled-champion")
    load_champion(Settings(models_dir=str(registry), labeled_dir=str(REPO_ROOT / "data" / "labeled")))
    return registry
