"""A loaded stance model: predictions with probabilities in LABELS order, and explanations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sklearn.pipeline import Pipeline

from wirestance.classifiers.article_model import (
    ArticlePredictions,
    ArticleStanceModel,
    ArticleText,
    Predictions,
    predict_articles_with,
)
from wirestance.classifiers.article_model import predictions_of as _predictions
from wirestance.classifiers.dataset import LabeledDataset
from wirestance.classifiers.labels import LABELS
from wirestance.classifiers.model import EvaluationReport, dataset_probabilities, linear_weights, score_predictions


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
    """A registered model: `article_model` labels whole articles (context stage + topic gate) and lone
    paragraphs (paragraph stage). A bare scikit-learn pipeline (a version registered before the context
    stage existed) is wrapped as a paragraph-stage-only model."""

    def __init__(self, model: ArticleStanceModel | Pipeline, version: str) -> None:
        self.article_model = model if isinstance(model, ArticleStanceModel) else ArticleStanceModel(model, None)
        self.version = version
        self.labels: tuple[str, ...] = LABELS
        self._weights: tuple[list[str], list[str], NDArray[np.float64]] | None = None

    @property
    def pipeline(self) -> Pipeline:
        """The paragraph-stage scikit-learn pipeline."""
        return self.article_model.paragraph_pipeline

    def predict(self, texts: Sequence[str]) -> Predictions:
        """Each text labelled alone (paragraph stage only): use predict_articles for paragraphs of an article."""
        if isinstance(texts, str):
            raise TypeError("predict() takes a sequence of texts, not one string")
        if len(texts) == 0:
            return _predictions(np.zeros((0, len(LABELS))))
        return _predictions(self.article_model.predict_proba(list(texts)))

    def predict_articles(self, articles: Sequence[ArticleText]) -> list[ArticlePredictions]:
        """Label whole articles: every paragraph in the context of its article, one model call for all."""
        return predict_articles_with(self.article_model, articles)

    def predict_dataset(self, dataset: LabeledDataset) -> Predictions:
        """Rows of an article labelled together (para_index order), other rows alone; in dataset order."""
        return _predictions(dataset_probabilities(self.article_model, dataset))

    def evaluate(self, dataset: LabeledDataset) -> EvaluationReport:
        return score_predictions(dataset.labels, self.predict_dataset(dataset).labels)

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
            self._weights = linear_weights(self.article_model)
        return self._weights


def _readable(feature_name: str) -> str:
    """ "word__sanctions" -> "word:sanctions"; character n-grams quoted so their spaces show."""
    block, _, name = feature_name.partition("__")
    return f"char:{name!r}" if block == "char" else f"{block}:{name}"
