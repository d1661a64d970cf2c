"""A loaded stance model: predictions with probabilities in LABELS order, and explanations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sklearn.pipeline import Pipeline

from wirestance.classifiers.dataset import LabeledDataset
from wirestance.classifiers.labels import LABELS
from wirestance.classifiers.model import EvaluationReport, linear_weights, score_predictions


@dataclass(frozen=True)
class Predictions:
    labels: list[str]
    #: Probability of the predicted label, shape (n,).
    confidence: NDArray[np.float64]
    #: Shape (n, len(LABELS)), columns in LABELS order.
    probabilities: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class FeatureContribution:
    #: "word:delivered", "char:'s-4'", "actor:speaks:russian_supplier".
    feature: str
    #: Feature value times its weight for the predicted label (averaged over the calibration folds).
    weight: float


@dataclass(frozen=True)
class Explanation:
    label: str
    confidence: float
    probabilities: dict[str, float]
    #: The features that pushed the paragraph towards `label`, strongest first.
    features: list[FeatureContribution]


class StanceModel:
    def __init__(self, pipeline: Pipeline, version: str) -> None:
        self.pipeline = pipeline
        self.version = version
        self.labels: tuple[str, ...] = LABELS
        classes = [str(c) for c in pipeline.classes_]
        # The classifier orders classes alphabetically; callers get LABELS order.
        self._column_of_label = [classes.index(label) if label in classes else None for label in LABELS]
        self._weights: tuple[list[str], list[str], NDArray[np.float64]] | None = None

    def predict(self, texts: Sequence[str]) -> Predictions:
        if isinstance(texts, str):
            raise TypeError("predict() takes a sequence of texts, not one string")
        if len(texts) == 0:
            return Predictions([], np.zeros(0), np.zeros((0, len(LABELS))))
        raw = self.pipeline.predict_proba(list(texts))
        probabilities = np.zeros((raw.shape[0], len(LABELS)), dtype=np.float64)
        for position, column in enumerate(self._column_of_label):
            if column is not None:
                probabilities[:, position] = raw[:, column]
        best = probabilities.argmax(axis=1)
        return Predictions(
            labels=[LABELS[i] for i in best],
            confidence=probabilities[np.arange(len(best)), best],
            probabilities=probabilities,
        )

    def evaluate(self, dataset: LabeledDataset) -> EvaluationReport:
        return score_predictions(dataset.labels, self.predict(dataset.texts).labels)

    def explain(self, text: str, top: int = 10) -> Explanation:
        prediction = self.predict([text])
        label = prediction.labels[0]
        names, classes, weights = self._linear_weights()
        values = self.pipeline.named_steps["features"].transform([text]).tocsr()
        row = weights[classes.index(label)]
        contributions = [
            (names[column], float(value * row[column]))
            for column, value in zip(values.indices, values.data, strict=True)
        ]
        pushing = sorted((c for c in contributions if c[1] > 0), key=lambda c: (-c[1], c[0]))[:top]
        return Explanation(
            label=label,
            confidence=float(prediction.confidence[0]),
            probabilities=dict(zip(LABELS, (float(p) for p in prediction.probabilities[0]), strict=True)),
            features=[FeatureContribution(_readable(name), weight) for name, weight in pushing],
        )

    def _linear_weights(self) -> tuple[list[str], list[str], NDArray[np.float64]]:
        if self._weights is None:
            self._weights = linear_weights(self.pipeline)
        return self._weights


def _readable(feature_name: str) -> str:
    """ "word__sanctions" -> "word:sanctions"; character n-grams quoted so their spaces show."""
    block, _, name = feature_name.partition("__")
    return f"char:{name!r}" if block == "char" else f"{block}:{name}"
