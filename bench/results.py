"""Benchmark results: `name: value` lines for tools, notes for people."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Metric:
    name: str
    value: float
    note: str = ""

    def line(self) -> str:
        return f"{self.name}: {format_value(self.value)}"


@dataclass
class Results:
    metrics: list[Metric] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, value: float, note: str = "") -> Metric:
        metric = Metric(name, value, note)
        self.metrics.append(metric)
        print(metric.line(), flush=True)
        return metric

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"# {text}", flush=True)

    def value(self, name: str) -> float | None:
        found = [m.value for m in self.metrics if m.name == name]
        return found[-1] if found else None


def format_value(value: float) -> str:
    if value != value:  # NaN: not measured
        return "nan"
    if abs(value) >= 100:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.3f}"
    return f"{value:.4f}"


def best_seconds(work: Callable[[], object], repeats: int) -> float:
    """The fastest of `repeats` runs: on a shared machine the minimum is the least disturbed one."""
    best = float("inf")
    for _ in range(max(1, repeats)):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def ratio(ours: float, floor: float) -> float:
    return ours / floor if floor else float("nan")
