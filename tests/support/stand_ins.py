"""Stand-ins for what these tests do not exercise."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from wirestance.lake.schema import STANCE_LABELS


@dataclass(frozen=True)
class _Predictions:
    labels: list[str]
    confidence: np.ndarray
    probabilities: np.ndarray


class FakeModel:
    """A deterministic labeller with the StanceLabeller interface (no training in these tests)."""

    def __init__(self, version: str = "test-model-1") -> None:
        self.version = version

    def predict(self, texts: Sequence[str]) -> _Predictions:
        probabilities = np.zeros((len(texts), len(STANCE_LABELS)))
        for row, text in enumerate(texts):
            probabilities[row, int(hashlib.sha1(text.encode()).hexdigest(), 16) % len(STANCE_LABELS)] = 1.0
        labels = [STANCE_LABELS[i] for i in probabilities.argmax(axis=1)]
        return _Predictions(labels, probabilities.max(axis=1), probabilities)
