"""Subcommands: serve (Prefect server + the three deployments), backfill (a date range, in-process)."""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import IO

from wirestance.cli import CliError
from wirestance.cli.ingest import print_rows, settings_from

LOCK_NAME = "wirestance-serve.lock"
SERVER_LOG = "wirestance-server.log"
SERVER_START_TIMEOUT = 120.0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the deployments (ingest-latest, backfill, retrain, maintain-lake), on a local Prefect server "
        "unless PREFECT_API_URL names one",
    )
    p.add_argument("--host", default="127.0.0.1", help="address of the local server (default: loopback)")
    p.add_argument("--port", type=int, default=4200, help="port of the local server (default 4200)")
    p.add_argument("--limit", type=int, default=4, help="flow runs at once in this process (default 4)")
    p.set_defaults(handler=_serve)

    p = sub.add_parser(
        "backfill",
        help="ingest a range of days chunk by chunk, in this process (no server needed); both days included, "
        "in each source's own time zone",
    )
    p.add_argument(
        "--since",
        required=True,
        type=_day,
        help="first day (YYYY-MM-DD); both days included, in the source's time zone",
    )
    p.add_argument(
        "--until",
        type=_day,
        help="last day (YYYY-MM-DD); both days included, in the source's time zone (default: yesterday)",
    )
    p.add_argument(
        "--mode",
        choices=("auto", "feeds", "discovery", "archive"),
        default="auto",
        help="where articles come from: the sources' feeds, past-date discovery (sitemaps, Wayback, Common "
        "Crawl), or the raw archive (no network); auto (default): the feeds, unless the days end before the "
        "oldest article the feeds list, then the raw archive if it holds those days, else discovery",
    )
    p.add_argument("--timezone", help="IANA time zone the days are counted in (default: each source's own)")
    p.add_argument("--source", action="append", dest="sources", help="source (repeatable; default: every enabled one)")
    p.add_argument("--category", action="append", dest="categories", help="feed category (repeatable)")
    p.add_argument("--chunk-days", type=int, default=1, help="days per chunk, run one after another (default 1)")
    p.add_argument("--reprocess", action="store_true", help="replace stored articles even if unchanged")
    p.add_argument("--base-url", help="replace the site's origin (a mirror or the offline sample)")
    p.add_argument("--lake", help="lake path or fsspec URL (default: $WIRESTANCE_LAKE_URL or data/lake)")
    p.set_defaults(handler=_backfill)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


# -- backfill --------------------------------------------------------------------------------------


def _backfill(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    settings = settings_from(args)
    # Without PREFECT_API_URL, Prefect runs the flow against a temporary local server of its own.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    if settings.task_runner.strip().lower() == "dask" and not os.environ.get("PREFECT_API_URL"):
        raise CliError(
            "WIRESTANCE_TASK_RUNNER=dask needs a Prefect server the Dask workers can reach: set PREFECT_API_URL "
            "(e.g. the one `wirestance serve` prints)"
        )
    from wirestance.flows.backfill import DEFAULT_TIMEZONE, MAX_CHUNK_DAYS, DateRange

    zone = args.timezone or DEFAULT_TIMEZONE  # empty: each source's own zone
    until = args.until or (datetime.now(UTC).date() - timedelta(days=1))
    try:
        dates = DateRange(start_date=args.since, end_date=until, timezone=zone)
    except ValidationError as exc:
        raise CliError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
    if not 1 <= args.chunk_days <= MAX_CHUNK_DAYS:
        raise CliError(f"--chunk-days must be between 1 and {MAX_CHUNK_DAYS}, not {args.chunk_days}")
    from wirestance.sources import get_source

    for name in args.sources or []:
        try:
            get_source(name)
        except ValueError as exc:
            raise CliError(str(exc)) from None
    from wirestance.backfill import plan_chunks, with_totals_row
    from wirestance.cli.progress import print_summary, progress_bar
    from wirestance.flows.backfill import CHUNK_LISTENERS, DEFAULT_SOURCES, Chunk, backfill
    from wirestance.report.data import reports_dir
    from wirestance.sources import enabled_source_names

    chunks = len(plan_chunks(dates, args.chunk_days, args.sources or enabled_source_names()))
    with progress_bar(f"backfill {dates.label}", chunks, "chunks") as move:

        def advance(chunk: Chunk | None) -> None:
            if chunk is not None:
                move()

        # With the Dask runner Prefect ships the flow's context to the workers; a listener holding the
        # progress display (and its locks) must not be part of it.
        dask = settings.task_runner.strip().lower() == "dask"
        if not dask:
            CHUNK_LISTENERS.append(advance)
        try:
            rows = backfill(
                dates=dates,
                sources=args.sources or DEFAULT_SOURCES,
                categories=args.categories or [],
                reprocess=args.reprocess,
                chunk_days=args.chunk_days,
                feed_base_url=args.base_url,
                mode=args.mode,
                settings=settings,
            )
        finally:
            if advance in CHUNK_LISTENERS:
                CHUNK_LISTENERS.remove(advance)
    print_rows(with_totals_row(rows))
    print(f"\nstored in the lake at {settings.lake_url}; stance report of these days under {reports_dir(settings)}")
    total = with_totals_row(rows)[-1] if rows else {}
    zone_words = args.timezone or "each source's own time zone"
    print_summary(
        f"Backfill {dates.label}",
        [
            ("days", f"{dates.label}, both included, in {zone_words}"),
            (
                "articles new / updated / unchanged",
                f"{total.get('new', 0)} / {total.get('updated', 0)} / {total.get('unchanged', 0)}",
            ),
            ("failures", total.get("failed", 0)),
            ("stored in the lake at", settings.lake_url),
            ("stance report under", reports_dir(settings)),
        ],
    )
    return 0


# -- serve -----------------------------------------------------------------------------------------


class _Stop(Exception):
    """SIGTERM before the runner took over its handling."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signal.Signals(signum).name)


def _serve(args: argparse.Namespace) -> int:
    home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect")
    home.mkdir(parents=True, exist_ok=True)
    previous = signal.signal(signal.SIGTERM, _raise_stop)
    # Ctrl-C stops serve even when started from a script that ignores SIGINT in background jobs.
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    server: subprocess.Popen[bytes] | None = None
    try:
        with _single_instance(home / LOCK_NAME) as lock:
            api_url = _configured_api_url()
            if api_url:
                print(f"using the Prefect server at {api_url} (PREFECT_API_URL)")
                _wait_healthy(api_url, None, 30.0, None)
            else:
                api_url = f"http://{_url_host(args.host)}:{args.port}/api"
                if _healthy(api_url):
                    print(f"a Prefect server already answers at {api_url}; serving against it")
                else:
                    server = _start_server(args.host, args.port, home, api_url)
            os.environ["PREFECT_API_URL"] = api_url  # the flow-run processes inherit it
            ui_url = os.environ.get("PREFECT_UI_URL", "").rstrip("/") or api_url.removesuffix("/api")
            ui_url = f"{ui_url}/v2"
            owned = {"server_pid": server.pid} if server is not None else {}
            lock.write(json.dumps({"pid": os.getpid(), "api_url": api_url, "ui_url": ui_url, **owned}))
            lock.flush()
            _serve_deployments(api_url, ui_url, args.limit)
    except (KeyboardInterrupt, _Stop):
        print("\nstopping...", file=sys.stderr)
    finally:
        if server is not None:
            _stop_server(server)
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
    print("wirestance serve stopped", file=sys.stderr)
    return 0


def _serve_deployments(api_url: str, ui_url: str, limit: int | None) -> None:
    from prefect import serve
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from wirestance.deployments import build_deployments

    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        built = build_deployments()
        print(f"\nPrefect UI: {ui_url}/  (deployments: {ui_url}/deployments)")
        print("serving these deployments (Ctrl-C or SIGTERM stops them):")
        for deployment in built:
            crons = [getattr(getattr(s, "schedule", s), "cron", None) for s in deployment.schedules or []]
            schedule = ", ".join(cron or "scheduled" for cron in crons)
            print(f"  {deployment.flow_name}/{deployment.name}" + (f"  (cron {schedule})" if schedule else ""))
        print(trigger_hint(api_url), flush=True)
        serve(*built, limit=limit, print_starting_message=False)


def trigger_hint(api_url: str) -> str:
    """How to start a backfill, runnable as copied into another terminal (the offline sample served by
    `wirestance sample serve` on its default port)."""
    from wirestance.cli.report import SAMPLE_PORT
    from wirestance.deployments import BACKFILL

    dates = '{"start_date": "2019-11-25", "days": 2}'
    return (
        "trigger one in the UI (Deployments > backfill > Run > Custom run), or from another terminal, on the\n"
        "offline sample (start `wirestance sample serve` first; the first day and the number of days, counted in\n"
        "the source's time zone):\n"
        f"  PREFECT_API_URL={api_url} prefect deployment run {BACKFILL} --param dates='{dates}' "
        f"--param mode=feeds --param feed_base_url=http://127.0.0.1:{SAMPLE_PORT}\n"
    )


def _configured_api_url() -> str:
    """PREFECT_API_URL from the environment or the active Prefect profile; empty if neither sets one."""
    from prefect.settings import PREFECT_API_URL

    return str(os.environ.get("PREFECT_API_URL") or PREFECT_API_URL.value() or "").rstrip("/")


@contextlib.contextmanager
def _single_instance(path: Path) -> Iterator[IO[str]]:
    """Hold an exclusive lock on `path` (released when this process ends, however it ends)."""
    handle = path.open("a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            try:
                other = json.loads(handle.read() or "{}")
            except ValueError:
                other = {}
            where = f" (pid {other.get('pid', '?')}, UI {other.get('ui_url', '?')})" if other else ""
            raise CliError(
                f"already running with PREFECT_HOME={path.parent}{where}; use that one, or stop it first"
            ) from None
        handle.seek(0)
        handle.truncate()
        yield handle
        handle.seek(0)
        handle.truncate()
    finally:
        handle.close()


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def _wait_healthy(api_url: str, server: subprocess.Popen[bytes] | None, timeout: float, log: Path | None) -> None:
    deadline = time.monotonic() + timeout
    while not _healthy(api_url):
        if server is not None and server.poll() is not None:
            tail = log.read_text(encoding="utf-8", errors="replace")[-2000:] if log else ""
            raise CliError(f"the Prefect server exited with status {server.returncode}:\n{tail}")
        if time.monotonic() > deadline:
            raise CliError(f"no answer from {api_url}/health after {timeout:.0f} s")
        time.sleep(0.25)


def _start_server(host: str, port: int, home: Path, api_url: str) -> subprocess.Popen[bytes]:
    log = home / SERVER_LOG
    env = {
        **os.environ,
        "PREFECT_API_URL": api_url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    print(f"starting a Prefect server on {api_url} (database and logs in {home}; log: {log})", flush=True)
    started = time.monotonic()
    with log.open("ab") as out:
        # Its own session: a Ctrl-C in the terminal reaches only us, and we stop it after the runner.
        server = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    try:
        _wait_healthy(api_url, server, SERVER_START_TIMEOUT, log)
    except BaseException:
        _stop_server(server)
        raise
    print(f"Prefect server up in {time.monotonic() - started:.1f} s", flush=True)
    return server


def _stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
