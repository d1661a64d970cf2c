"""One end-to-end reprocess in this process, timed: `python -m bench.e2e_run flow|plain`.

The parent (bench.e2e) starts each run in a fresh process with WIRESTANCE_LAKE_URL / RAW_URL /
MODELS_DIR set, so peak memory is per run. Prints one line `BENCH_RESULT <json>`.

- flow: the `reprocess` Prefect flow (ephemeral API server; its start-up is timed apart, by a warm-up flow).
- plain: the same work without Prefect: the functions the flow calls, in a plain Python call.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import UTC, datetime
from typing import Any

WINDOW = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
RESULT_PREFIX = "BENCH_RESULT "


def run_flow() -> tuple[list[dict[str, Any]], float]:
    from prefect import flow

    from wirestance.flows.reprocess import reprocess

    @flow(name="bench-warmup")
    def warmup() -> int:
        return 0

    started = time.perf_counter()
    warmup()  # starts the ephemeral API server
    startup = time.perf_counter() - started
    return reprocess(start=WINDOW[0], end=WINDOW[1], sources=["anadolu"]), startup


def run_plain() -> list[dict[str, Any]]:
    from wirestance.flows.reprocess import run_reprocess
    from wirestance.flows.resources import champion_model
    from wirestance.pipeline import Window
    from wirestance.settings import Settings

    settings = Settings.from_env()
    model = champion_model(settings)
    return run_reprocess(settings, Window(*WINDOW), ["anadolu"], model)


def main(argv: list[str]) -> int:
    mode = argv[0] if argv else "plain"
    if mode not in ("flow", "plain"):
        print("usage: python -m bench.e2e_run flow|plain", file=sys.stderr)
        return 2
    # Imports out of the timing: both modes import the same modules.
    import wirestance.flows.reprocess  # noqa: F401

    startup = 0.0
    if mode == "flow":
        # run_flow times the server start itself and returns it apart from the flow's own time.
        started = time.perf_counter()
        rows, startup = run_flow()
        seconds = time.perf_counter() - started - startup
    else:
        started = time.perf_counter()
        rows = run_plain()
        seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    result = {
        "mode": mode,
        "seconds": seconds,
        "startup_seconds": startup,
        "articles": sum(int(r["articles"]) for r in rows),
        "rows": rows,
        "peak_rss_mb": peak_kib / 1024,
    }
    print(RESULT_PREFIX + json.dumps(result, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
