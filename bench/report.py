"""bench/RESULTS.md: the run's figures, how they compare with the targets, and the machine they came from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.results import Results, format_value


@dataclass(frozen=True)
class Target:
    text: str
    metric: str  # base name; "_10n" is appended when the size is 10 x N
    size: int | None  # the run size the target is set at (None: any)
    minimum: float | None = None
    maximum: float | None = None

    def check(self, results: Results, n: int) -> tuple[str, str]:
        """(measured value with its size, verdict)."""
        name = self.metric
        if self.size == 10 * n and results.value(f"{self.metric}_10n") is not None:
            name = f"{self.metric}_10n"
        value = results.value(name)
        if value is None:
            return "not measured", "-"
        where = f" (`{name}`)"
        if self.size is not None and name == self.metric and self.size != n:
            return f"{format_value(value)}{where} at {n:,}", f"indicative only: the target is at {self.size:,}"
        met = (self.minimum is None or value >= self.minimum) and (self.maximum is None or value <= self.maximum)
        bound = self.minimum if self.minimum is not None else self.maximum
        assert bound is not None
        by = value / bound if bound else float("nan")
        return f"{format_value(value)}{where}", f"{'met' if met else 'MISSED'} ({by:.2f} x the target)"


TARGETS = (
    Target("parse >= 0.5 x the bare lxml floor", "parse_ratio_vs_lxml", None, minimum=0.5),
    Target("parse >= 5 x trafilatura", "parse_ratio_vs_trafilatura", None, minimum=5.0),
    *(
        Target(f"{agency} parse >= 0.5 x its lxml floor", f"parse_{agency}_ratio_vs_lxml", None, minimum=0.5)
        for agency in ("anadolu", "ap", "reuters", "aljazeera", "sputnik", "rt")
    ),
    Target("generic parse >= trafilatura's speed", "parse_generic_ratio_vs_trafilatura", None, minimum=1.0),
    Target("classify >= 0.8 x bare predict_proba", "classify_ratio_vs_floor", None, minimum=0.8),
    Target("Prefect overhead <= 5 % at 10,000 articles, same workers", "prefect_overhead_pct", 10_000, maximum=5.0),
    Target("end to end >= 300 articles/s at 10,000", "e2e_articles_per_s", 10_000, minimum=300.0),
    Target("parallel efficiency >= 0.8 at 10,000", "parallel_efficiency", 10_000, minimum=0.8),
    Target("end to end >= 0.8 x the floor at 10,000", "e2e_ratio_vs_floor", 10_000, minimum=0.8),
    Target("unchanged archive reprocessed >= 3 x faster", "reprocess_unchanged_speedup", None, minimum=3.0),
    Target("peak memory < 1 GiB at 100,000", "peak_rss_mb", 100_000, maximum=1024.0),
    Target("lake writes per article >= the earlier layout's", "lake_write_ratio_vs_earlier_layout", None, minimum=1.0),
)


def growth_verdict(results: Results, n: int) -> tuple[str, str]:
    value = results.value("peak_rss_growth")
    if value is None:
        return "not measured", "-"
    verdict = "met" if value <= 1.2 else "MISSED"
    if n != 10_000:
        verdict = f"indicative only ({verdict}): the target compares 100,000 with 10,000"
    return f"{format_value(value)} (`peak_rss_growth`, {10 * n:,} over {n:,})", verdict


def render(
    results: Results,
    *,
    command: str,
    n: int,
    parts: Sequence[str],
    machine: dict[str, str],
    load_before: str,
    load_after: str,
    seconds: float,
) -> str:
    lines = [
        f"## Run of {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}: `{command}`",
        "",
        f"N = {n:,}; parts: {', '.join(parts)}; {seconds:.0f} s of wall time.",
        f"Load average (1, 5, 15 min) before: {load_before}; after: {load_after} "
        "(the machine is shared: other work running at the same time slows every figure).",
        "",
        "| machine | |",
        "| --- | --- |",
        *(f"| {key} | {value} |" for key, value in machine.items()),
        "",
        "| name | value | what |",
        "| --- | ---: | --- |",
        *(f"| `{m.name}` | {format_value(m.value)} | {m.note} |" for m in results.metrics),
        "",
        "| target | measured | verdict |",
        "| --- | --- | --- |",
    ]
    for target in TARGETS:
        measured, verdict = target.check(results, n)
        lines.append(f"| {target.text} | {measured} | {verdict} |")
    measured, verdict = growth_verdict(results, n)
    lines.append(f"| peak memory at 100,000 <= 1.2 x at 10,000 | {measured} | {verdict} |")
    lines += ["", "Notes:", "", *(f"- {note}" for note in results.notes), "", "```", *results_lines(results), "```"]
    return "\n".join(lines) + "\n"


def results_lines(results: Results) -> list[str]:
    return [m.line() for m in results.metrics]


HEADER = """# wirestance benchmark results

Written by `python -m bench` (see bench/README.md). Figures are absolute only for the machine named in
each run; the ratios against floors measured in the same run are what travel.

"""


def write(path: Path, section: str, *, append: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)  # a run of many minutes must not end in a missing folder
    if append and path.exists():
        existing = path.read_text(encoding="utf-8")
        path.write_text(existing.rstrip("\n") + "\n\n" + section, encoding="utf-8")
    else:
        path.write_text(HEADER + section, encoding="utf-8")
