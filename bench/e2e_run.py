"""One end-to-end reprocess in this process, timed: `python -m bench.e2e_run flow|plain|floor`.

The parent (bench.e2e) starts each run in a fresh process with WIRESTANCE_LAKE_URL / RAW_URL / MODELS_DIR /
WORKERS set, so peak memory is per run. Prints one line `BENCH_RESULT <json>`.

- flow: the `reprocess` Prefect flow (ephemeral API server; its start-up is timed apart, by a warm-up flow).
- plain: the same work without Prefect: the function the flow calls, in a plain Python call; then a second
  pass over the same archive and lake (nothing changed: it must label nothing), timed apart.
- floor: what the same pages cost at least, back to back in this one process: a bare lxml parse selecting
  the body paragraphs, the model's bare predict_proba on every paragraph, and the lake writes of the rows,
  FLOOR_WRITE_BATCH pages at a time (memory holds one batch).

Peak memory counts this process and its worker processes (sampled, see PeakMemory).
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import threading
import time
from datetime import UTC, datetime
from itertools import islice
from typing import Any

WINDOW = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
RESULT_PREFIX = "BENCH_RESULT "
#: Articles per lake upsert in the floor (what reprocess stores at once).
FLOOR_WRITE_BATCH = 1000


def run_flow() -> tuple[list[dict[str, Any]], float]:
    from prefect import flow

    from wirestance.flows.reprocess import reprocess

    @flow(name="bench-warmup")
    def warmup() -> int:
        return 0

    started = time.perf_counter()
    warmup()  # starts the ephemeral API server
    startup = time.perf_counter() - started
    return asyncio.run(reprocess(start=WINDOW[0], end=WINDOW[1], sources=["anadolu"])), startup


def run_plain() -> list[dict[str, Any]]:
    from wirestance.flows.reprocess import champion_ref
    from wirestance.pipeline import Window
    from wirestance.reprocess import run_reprocess
    from wirestance.settings import Settings

    settings = Settings.from_env()
    model = champion_ref(settings)  # what the flow passes: the workers load the model
    return run_reprocess(settings, Window(*WINDOW), ["anadolu"], model)


def run_floor() -> dict[str, Any]:
    """The floor, a write batch of pages at a time: reading the pages, our parse (for the rows to write) and
    labelling the rows stay out of the timing, and memory holds one batch, not the whole archive (10,000
    pages held at once took 4.8 GB; 100,000 would not fit)."""
    from bench.parse import floor_paragraphs
    from wirestance.archive.reader import ArchiveReader
    from wirestance.fetch import decode_body
    from wirestance.flows.resources import champion_model
    from wirestance.lake import Lake
    from wirestance.pipeline import article_rows
    from wirestance.settings import Settings
    from wirestance.sources import get_source

    settings = Settings.from_env()
    model = champion_model(settings)
    lake = Lake(settings.lake_url)
    source = get_source("anadolu")
    articles = 0
    parse_seconds = label_seconds = write_seconds = 0.0
    with ArchiveReader(settings.raw_url, lake) as reader:
        responses = reader.responses()
        while batch := list(islice(responses, FLOOR_WRITE_BATCH)):
            pages = [(r.url, decode_body(r.body, r.declared_charset), r.fetched_at) for r in batch]
            parsed = [(source.parse(html, url), fetched_at) for url, html, fetched_at in pages]
            article_table, paragraph_table = article_rows(parsed, model)
            texts = [p for article, _ in parsed for p in article.paragraphs]
            if not articles:
                model.pipeline.predict_proba(texts[:50])  # first-call costs out of the timing

            started = time.perf_counter()
            for _, html, _ in pages:
                floor_paragraphs(html)
            parse_seconds += time.perf_counter() - started
            started = time.perf_counter()
            model.pipeline.predict_proba(texts)
            label_seconds += time.perf_counter() - started
            started = time.perf_counter()
            lake.upsert(article_table, paragraph_table)
            write_seconds += time.perf_counter() - started
            articles += len(pages)
    return {
        "articles": articles,
        "parse_seconds": parse_seconds,
        "label_seconds": label_seconds,
        "write_seconds": write_seconds,
        "seconds": parse_seconds + label_seconds + write_seconds,
    }


class PeakMemory:
    """The largest sums, sampled every 0.1 s (PSS every second), of this process's memory and its worker
    processes' (children started by multiprocessing; Prefect's API server is not counted).

    Two sums: resident set sizes (RSS; pages shared by the processes, such as the libraries' code, are
    counted once per process, so it overstates) and proportional set sizes (PSS; each shared page split
    among the processes sharing it: what the run takes from the machine's memory).
    """

    def __init__(self) -> None:
        self.peak_bytes = 0
        self.peak_pss_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        import psutil

        me = psutil.Process()
        workers: dict[int, psutil.Process | None] = {}  # children by pid; None: not a worker (Prefect's server)
        tick = 0
        while not self._stop.wait(0.1):
            # PSS reads /proc/<pid>/smaps_rollup, ~10 ms of kernel time for a 500 MB process: every 0.1 s
            # for three processes that was 15 % of a core taken from the run it measures. RSS (statm) is
            # cheap; PSS is read once a second. Listing the children walks every process of the machine and
            # reading a command line is a file each: once a second too, each child looked at once (a worker
            # started since is counted from the next second on).
            once_a_second = tick % 10 == 0
            tick += 1
            if once_a_second:
                for child in me.children(recursive=True):
                    if child.pid not in workers:
                        workers[child.pid] = child if _is_worker(child) else None
            rss = pss = 0
            for process in [me, *(worker for worker in workers.values() if worker is not None)]:
                try:
                    info = process.memory_full_info() if once_a_second else process.memory_info()
                except psutil.Error:
                    continue  # a worker that just ended
                rss += info.rss
                pss += getattr(info, "pss", info.rss)
            self.peak_bytes = max(self.peak_bytes, rss)
            if once_a_second:
                self.peak_pss_bytes = max(self.peak_pss_bytes, pss)

    @property
    def mb(self) -> float:
        own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
        return max(self.peak_bytes, own_peak) / 1024**2

    @property
    def pss_mb(self) -> float:
        return self.peak_pss_bytes / 1024**2


def _is_worker(process: Any) -> bool:
    """A child started by multiprocessing (a pool's worker or its resource tracker)."""
    import psutil

    try:
        return "multiprocessing" in " ".join(process.cmdline())
    except psutil.Error:
        return False


def main(argv: list[str]) -> int:
    mode = argv[0] if argv else "plain"
    if mode not in ("flow", "plain", "floor"):
        print("usage: python -m bench.e2e_run flow|plain|floor", file=sys.stderr)
        return 2
    # Imports out of the timing: every mode imports the same modules.
    import wirestance.flows.reprocess  # noqa: F401

    with PeakMemory() as memory:
        rows, seconds, startup, extra = _timed(mode)
    result = {
        "mode": mode,
        "seconds": seconds,
        "startup_seconds": startup,
        "articles": sum(int(r["articles"]) for r in rows),
        "rows": rows,
        "peak_rss_mb": memory.mb,
        "peak_pss_mb": memory.pss_mb,
        **extra,
    }
    print(RESULT_PREFIX + json.dumps(result, default=str), flush=True)
    return 0


def _timed(mode: str) -> tuple[list[dict[str, Any]], float, float, dict[str, Any]]:
    startup = 0.0
    extra: dict[str, Any] = {}
    if mode == "floor":
        extra = run_floor()
        rows: list[dict[str, Any]] = [{"articles": extra["articles"]}]
        seconds = extra["seconds"]
    elif mode == "flow":
        # run_flow times the server start itself and returns it apart from the flow's own time.
        started = time.perf_counter()
        rows, startup = run_flow()
        seconds = time.perf_counter() - started - startup
    else:
        started = time.perf_counter()
        cpu_before = _cpu_seconds()
        rows = run_plain()
        seconds = time.perf_counter() - started
        cpu_parent, cpu_workers = (after - before for after, before in zip(_cpu_seconds(), cpu_before, strict=True))
        started = time.perf_counter()
        again = run_plain()  # the same archive, model and lake: nothing to label or write
        extra = {
            # CPU seconds (user + system) of this process and of its worker processes (ended, so counted)
            # in the first pass: what the work costs whatever else runs on the machine.
            "cpu_parent_seconds": cpu_parent,
            "cpu_workers_seconds": cpu_workers,
            "unchanged_seconds": time.perf_counter() - started,
            "unchanged_labelled": sum(int(r.get("labelled", 0)) for r in again),
        }
    return rows, seconds, startup, extra


def _cpu_seconds() -> tuple[float, float]:
    """User + system CPU seconds of this process, and of its children that ended (the pool's workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
