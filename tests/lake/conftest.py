from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# lake_rows (row builders, writer processes) is imported by name here and by the spawned writer processes.
sys.path.insert(0, str(Path(__file__).parent))

from s3_server import S3Server, seaweed_s3


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """One SeaweedFS server (S3 API on loopback) for the session's lake tests; stopped at the end."""
    with seaweed_s3(tmp_path_factory.mktemp("s3")) as server:
        yield server
