"""Reprocess end to end (archive -> parse -> label -> lake), through the flow and as a plain loop, and growth.

Every run is a fresh `python -m bench.e2e_run` process on a fresh lake, so its peak memory is its own.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

from bench.corpus import Archive
from bench.e2e_run import RESULT_PREFIX
from bench.env import Sandbox, load_average
from bench.results import Results, ratio


@dataclass(frozen=True)
class Run:
    mode: str
    pages: int
    articles: int
    seconds: float
    startup_seconds: float
    peak_rss_mb: float
    load: str
    workers: int
    #: The plain run's second pass over the same archive and lake (nothing changed).
    unchanged_seconds: float = float("nan")
    unchanged_labelled: int = -1
    #: The floor's parts: bare parse, bare predict_proba, lake writes.
    parts: tuple[float, float, float] = (float("nan"),) * 3
    #: Peak proportional set size of the run and its workers (shared pages split among them).
    peak_pss_mb: float = float("nan")
    #: CPU seconds of the calling process and of its workers (plain runs' first pass).
    cpu_parent_seconds: float = float("nan")
    cpu_workers_seconds: float = float("nan")

    @property
    def articles_per_s(self) -> float:
        return self.articles / self.seconds if self.seconds else float("nan")

    @property
    def seconds_per_article(self) -> float:
        return self.seconds / self.articles if self.articles else float("nan")


def run_once(sandbox: Sandbox, archive: Archive, mode: str, workers: int) -> Run:
    """One run in a fresh process on a fresh lake; `workers` worker processes parse and label."""
    label = f"{mode}-{archive.pages}-w{workers}"
    # Each run its own lake, left in place until the sandbox goes: deleting a run's thousands of files right
    # before the next run creates its own slows the next one's every mkdir and file creation (this machine's
    # ext4 skips inodes deleted within the last minute or more when it allocates one, `recently_deleted` in
    # the kernel's profile: measured 0.05 -> 0.7 ms a folder or file, the calling process's CPU rising run
    # after run), which made each round slower than the one before.
    lake = archive.fresh_lake(sandbox.root / f"lake-{label}-{uuid.uuid4().hex[:8]}")
    env = sandbox.environ(
        WIRESTANCE_LAKE_URL=str(lake), WIRESTANCE_RAW_URL=str(archive.raw), WIRESTANCE_WORKERS=str(workers)
    )
    log = sandbox.root / f"{label}.log"
    load = load_average()
    with open(log, "wb") as output:
        done = subprocess.run(
            [sys.executable, "-m", "bench.e2e_run", mode],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=sandbox.root,
            check=False,
        )
    text = log.read_text(encoding="utf-8", errors="replace")
    found = [line for line in text.splitlines() if line.startswith(RESULT_PREFIX)]
    if done.returncode != 0 or not found:
        tail = "\n".join(text.splitlines()[-30:])
        raise RuntimeError(f"e2e run {label} failed (exit {done.returncode}); log {log}:\n{tail}")
    data = json.loads(found[-1].removeprefix(RESULT_PREFIX))
    run = Run(
        mode=mode,
        pages=archive.pages,
        articles=int(data["articles"]),
        seconds=float(data["seconds"]),
        startup_seconds=float(data["startup_seconds"]),
        peak_rss_mb=float(data["peak_rss_mb"]),
        load=load,
        workers=workers,
        unchanged_seconds=float(data.get("unchanged_seconds", float("nan"))),
        peak_pss_mb=float(data.get("peak_pss_mb", float("nan"))),
        unchanged_labelled=int(data.get("unchanged_labelled", -1)),
        cpu_parent_seconds=float(data.get("cpu_parent_seconds", float("nan"))),
        cpu_workers_seconds=float(data.get("cpu_workers_seconds", float("nan"))),
        parts=(
            float(data.get("parse_seconds", float("nan"))),
            float(data.get("label_seconds", float("nan"))),
            float(data.get("write_seconds", float("nan"))),
        ),
    )
    if run.articles != archive.pages:
        raise RuntimeError(f"e2e run {label} stored {run.articles} articles of {archive.pages}: {data['rows']}")
    return run


def fastest(runs: list[Run]) -> Run:
    """The fastest of runs of one configuration, with the largest peak memory among them (noise only slows a
    run down; memory is not a figure to take the best of)."""
    best = min(runs, key=lambda run: run.seconds)
    return replace(
        best,
        peak_rss_mb=max(run.peak_rss_mb for run in runs),
        peak_pss_mb=max((run.peak_pss_mb for run in runs), key=lambda mb: -math.inf if math.isnan(mb) else mb),
    )


def overhead_pct(flow: Run, plain: Run) -> float:
    """Prefect's share of the flow run's time: (flow - plain) / flow, same workers."""
    return (flow.seconds - plain.seconds) / flow.seconds * 100 if flow.seconds else float("nan")


def efficiency(plain: Run, one_worker: Run) -> float:
    """(w-worker articles/s) / (w x one-worker articles/s)."""
    return ratio(plain.articles_per_s, plain.workers * one_worker.articles_per_s)


def paired_median(first: list[Run], second: list[Run], figure: Callable[[Run, Run], float]) -> float:
    """The median over rounds of `figure` of the two runs of one round. The runs of a round ran next to each
    other, so a slow spell of the machine slows both; the fastest runs of two configurations may come from
    different spells (a machine that drifts by tens of percent within minutes pairs them badly)."""
    values = [figure(a, b) for a, b in zip(first, second, strict=True)]
    return statistics.median(values) if values else float("nan")


def record_paired(results: Results, flow: list[Run], plain: list[Run], one_worker: list[Run]) -> None:
    """The same ratios as record_e2e, each the median over rounds of its adjacent runs (see paired_median)."""
    rounds = len(flow)
    results.add(
        "parallel_efficiency_paired",
        paired_median(plain, one_worker, efficiency),
        f"median over {rounds} rounds of each round's plain runs' efficiency",
    )
    results.add(
        "prefect_overhead_pct_paired",
        paired_median(flow, plain, overhead_pct),
        f"median over {rounds} rounds of each round's (flow - plain) / flow",
    )


def record_e2e(results: Results, flow: Run, plain: Run, one_worker: Run, floor: Run, suffix: str = "") -> None:
    """Throughput against the floor, parallel efficiency, Prefect's share, labels reused, peak memory."""
    overhead = overhead_pct(flow, plain)
    results.add(
        f"e2e_articles_per_s{suffix}",
        flow.articles_per_s,
        f"reprocess flow, {flow.articles} articles, {flow.workers} workers; target >= 300",
    )
    results.add(
        f"e2e_plain_articles_per_s{suffix}", plain.articles_per_s, f"same function, no Prefect, {plain.workers} workers"
    )
    results.add(
        f"e2e_one_worker_articles_per_s{suffix}", one_worker.articles_per_s, "same function, no Prefect, 1 worker"
    )
    results.add(
        f"parallel_efficiency{suffix}",
        efficiency(plain, one_worker),
        f"({plain.workers}-worker articles/s) / ({plain.workers} x one-worker); target >= 0.8",
    )
    parse_s, label_s, write_s = floor.parts
    results.add(
        f"e2e_floor_articles_per_s{suffix}",
        floor.articles_per_s,
        f"bare lxml parse {parse_s:.1f} s + bare predict_proba {label_s:.1f} s + lake writes {write_s:.1f} s, "
        "back to back in one process",
    )
    results.add(
        f"e2e_ratio_vs_floor{suffix}", ratio(flow.articles_per_s, floor.articles_per_s), "flow / floor; target >= 0.8"
    )
    results.add(f"prefect_overhead_pct{suffix}", overhead, "(flow - plain) / flow, same workers; target <= 5")
    results.add(
        f"reprocess_unchanged_speedup{suffix}",
        ratio(plain.seconds, plain.unchanged_seconds),
        f"first pass / second pass over the unchanged archive ({plain.unchanged_labelled} articles labelled "
        "in the second); target >= 3",
    )
    results.add(
        f"peak_rss_mb{suffix}", flow.peak_rss_mb, "peak resident memory of the flow run, workers included (sum of RSS)"
    )
    results.add(
        f"peak_pss_mb{suffix}",
        flow.peak_pss_mb,
        "the same as proportional set size (pages shared between the processes counted once)",
    )
    results.add(
        f"peak_rss_plain_mb{suffix}", plain.peak_rss_mb, "peak resident memory of the plain run, workers included"
    )
    results.add(f"prefect_startup_s{suffix}", flow.startup_seconds, "ephemeral API server start, not in the above")


def record_growth(results: Results, small: Run, large: Run) -> None:
    results.add("e2e_articles_per_s_10n", large.articles_per_s, f"reprocess flow, {large.articles} articles")
    results.add("peak_rss_mb_10n", large.peak_rss_mb, f"flow run at {large.articles} articles, workers included")
    results.add("peak_pss_mb_10n", large.peak_pss_mb, "the same as proportional set size")
    results.add(
        "e2e_seconds_per_article_growth",
        ratio(large.seconds_per_article, small.seconds_per_article),
        f"seconds per article at {large.articles} over at {small.articles}; flat is 1.0",
    )
    results.add(
        "peak_rss_growth",
        ratio(large.peak_rss_mb, small.peak_rss_mb),
        f"peak memory at {large.articles} over at {small.articles}; target <= 1.2",
    )


def describe(run: Run) -> str:
    cpu = ""
    if run.cpu_parent_seconds == run.cpu_parent_seconds:  # not NaN: a plain run
        cpu = (
            f"CPU {run.cpu_parent_seconds:.1f} s in the calling process + {run.cpu_workers_seconds:.1f} s in the "
            f"workers ({(run.cpu_parent_seconds + run.cpu_workers_seconds) / run.articles * 1000:.1f} ms an "
            "article), "
        )
    return (
        f"{run.mode} run, {run.workers} workers, {run.articles} articles: {run.seconds:.1f} s "
        f"({run.articles_per_s:.1f} articles/s), peak RSS {run.peak_rss_mb:.0f} MB "
        f"(PSS {run.peak_pss_mb:.0f} MB; workers included), {cpu}"
        f"load average at start {run.load}"
    )
