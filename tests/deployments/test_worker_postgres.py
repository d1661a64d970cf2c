"""The road to more than one machine, on one: a Prefect server backed by PostgreSQL (Debian's, started
here on loopback), a `process` work pool, the backfill deployment applied from deployments/prefect.yaml
with `prefect deploy`, and a `prefect worker` that runs it in a new process.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from deploy_support import (
    REPO_ROOT,
    Child,
    api,
    base_env,
    expected_articles,
    free_port,
    healthy,
    lake_tables,
    record_timing,
    wait_for,
)
from prefect.client.schemas.objects import FlowRun

from wirestance.deployments import BACKFILL
from wirestance.replay import ReplayServer

pytestmark = pytest.mark.slow

POOL = "wirestance"  # the work pool deployments/prefect.yaml names


def _postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


def _accepts_connections(port: int) -> bool:
    import asyncpg

    async def probe() -> bool:
        try:
            connection = await asyncpg.connect(host="127.0.0.1", port=port, user="postgres", timeout=2)
        except (OSError, asyncpg.PostgresError):
            return False
        await connection.close()
        return True

    return asyncio.run(probe())


def _sql(port: int, query: str) -> object:
    import asyncpg

    async def run() -> object:
        connection = await asyncpg.connect(host="127.0.0.1", port=port, user="postgres", database="postgres")
        try:
            return await connection.fetchval(query)
        finally:
            await connection.close()

    return asyncio.run(run())


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A throwaway PostgreSQL cluster on a free loopback port (trust auth, no fsync); yields the port."""
    bindir = _postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (scripts/install-test-services.sh installs Debian's)")
    # initdb refuses to run as root: as root, the cluster belongs to the `postgres` user, in a folder it
    # can reach (pytest's own temp root is private to us).
    user = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="wirestance-pg-"))
    logs = tmp_path_factory.mktemp("postgres-logs")
    if user:
        shutil.chown(root, user, user)
    try:
        initdb = subprocess.run(
            [
                str(bindir / "initdb"),
                "-D",
                str(root / "data"),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ],
            capture_output=True,
            text=True,
            user=user,
            group=user,
            timeout=120,
            cwd=root,
        )
        assert initdb.returncode == 0, initdb.stdout + initdb.stderr
        port = free_port()
        server = Child(
            "postgres",
            [
                str(bindir / "postgres"),
                "-D",
                str(root / "data"),
                "-p",
                str(port),
                "-k",
                str(root),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "full_page_writes=off",
            ],
            {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            logs / "postgres.log",
            cwd=root,
            user=user,
            stop_signal=signal.SIGINT,  # "fast" shutdown: does not wait for clients
        )
        try:
            record_timing("postgres start", wait_for(lambda: _accepts_connections(port), 60, "PostgreSQL", server))
            yield port
        finally:
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_process_worker_runs_backfill_from_prefect_yaml_on_a_postgres_backed_server(
    postgres: int, replay: ReplayServer, models_dir: Path, tmp_path: Path
):
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    lake = tmp_path / "lake"
    env = base_env(
        tmp_path / "prefect-home",
        PREFECT_API_URL=api_url,
        PREFECT_API_DATABASE_CONNECTION_URL=f"postgresql+asyncpg://postgres@127.0.0.1:{postgres}/postgres",
    )
    prefect = [sys.executable, "-m", "prefect"]
    server = Child(
        "prefect server (PostgreSQL)",
        [*prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env,
        tmp_path / "server.log",
    )
    worker: Child | None = None
    try:
        seconds = wait_for(lambda: healthy(api_url), 120, "Prefect server on PostgreSQL", server)
        record_timing("prefect server start on PostgreSQL (fresh database)", seconds)
        for argv in (
            [*prefect, "work-pool", "create", POOL, "--type", "process"],
            [*prefect, "--no-prompt", "deploy", "--prefect-file", "deployments/prefect.yaml", "--name", "backfill"],
        ):
            done = subprocess.run(argv, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, f"{argv}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        worker_env = {
            **env,
            "WIRESTANCE_CODE_DIR": str(REPO_ROOT),  # where the pull step of prefect.yaml finds the code
            "WIRESTANCE_LAKE_URL": str(lake),
            "WIRESTANCE_MODELS_DIR": str(models_dir),
        }
        worker = Child(
            "prefect worker",
            [*prefect, "worker", "start", "--pool", POOL, "--type", "process"],
            worker_env,
            tmp_path / "worker.log",
        )
        from prefect.deployments import run_deployment

        started = time.monotonic()
        with api(api_url):
            run = run_deployment(
                BACKFILL,
                parameters={
                    "dates": {"start_date": "2019-11-25", "days": 2},
                    "feed_base_url": replay.base_url,
                },
                timeout=180,
                poll_interval=1,
            )
        record_timing("backfill run by a process worker (worker start included)", time.monotonic() - started)
        assert isinstance(run, FlowRun)
        assert run.state is not None and run.state.is_completed(), f"{run.state}\n{worker.tail()}\n{server.tail()}"
        articles, paragraphs = lake_tables(str(lake))
        assert set(articles["article_id"]) == expected_articles(date(2019, 11, 25), date(2019, 11, 26)) != set()
        assert len(paragraphs) == int(articles["n_paragraphs"].sum())
        # The run is in PostgreSQL, not in a SQLite file.
        assert _sql(postgres, f"select state_type from flow_run where id = '{run.id}'") == "COMPLETED"
        assert not (tmp_path / "prefect-home" / "prefect.db").exists()
    finally:
        if worker is not None:
            worker.stop()
        server.stop()
