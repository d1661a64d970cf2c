"""Fixtures of the archive, discovery and archive-backed flow tests: a loopback archive server, settings, a
stand-in model. A folder's conftest.py imports them.

Every test that uses them may talk to loopback only (autouse): a connection anywhere else fails the test.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from archive_server import ArchiveServer
from stand_ins import FakeModel

from wirestance.discovery.config import DiscoveryConfig
from wirestance.settings import Settings

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: object) -> None:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = str(address[0]) if isinstance(address, tuple) else str(address)
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise AssertionError(f"a test tried to connect to {address}; only loopback is allowed")
    _real_connect(self, address)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


@pytest.fixture
def archive_server() -> Iterator[ArchiveServer]:
    with ArchiveServer() as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        lake_url=str(tmp_path / "lake"),
        raw_url=str(tmp_path / "raw"),
        per_host_delay=0.0,
        timeout=2.0,
        max_attempts=3,
        backoff_base=0.01,
        batch_size=10,
    )


@pytest.fixture
def config(archive_server: ArchiveServer) -> DiscoveryConfig:
    base = archive_server.base_url
    return DiscoveryConfig(wayback_base=base, cc_index_base=base, cc_data_base=base, cdx_page_size=4)


@pytest.fixture
def model() -> FakeModel:
    return FakeModel()
