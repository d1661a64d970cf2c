"""Classify: the champion through StanceModel.predict against bare predict_proba on the same pipeline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bench.results import Results, best_seconds, ratio
from wirestance.settings import Settings

if TYPE_CHECKING:
    from wirestance.classifiers.predict import StanceModel


def load_model(settings: Settings) -> StanceModel:
    """The champion of the sandbox's registry (trained from the labelled data on first use)."""
    from wirestance.classifiers.registry import load_champion

    return load_champion(settings)


def run(results: Results, texts: Sequence[str], settings: Settings, repeats: int) -> None:
    model = load_model(settings)
    pipeline = model.pipeline
    batch = list(texts)
    model.predict(batch[:50])  # first-call costs (lazy imports, caches) out of the timing
    ours = len(batch) / best_seconds(lambda: model.predict(batch), repeats)
    floor = len(batch) / best_seconds(lambda: pipeline.predict_proba(batch), repeats)
    results.note(f"classify: {len(batch)} paragraphs in one call, model {model.version}")
    results.add("classify_paragraphs_per_s", ours, "StanceModel.predict, one core")
    results.add("classify_floor_paragraphs_per_s", floor, "pipeline.predict_proba on the same pipeline object")
    results.add("classify_ratio_vs_floor", ratio(ours, floor), "target >= 0.8")
