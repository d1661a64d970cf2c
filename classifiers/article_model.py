"""The article-aware stance model: a paragraph stage, a context stage over the article, a topic gate.

1. The paragraph stage (model.build_pipeline: tf-idf + actor attribution -> calibrated linear SVM) scores
   each paragraph on its own.
2. The context stage (a logistic regression, see context.py for its features) relabels each paragraph of
   an article from its own scores, its neighbours', the side that last spoke by name, how it opens, its
   position and the headline/lede actors. It is trained on out-of-fold paragraph-stage scores (folds cut
   by article), so it learns how far to trust scores the paragraph stage produces on text it never saw,
   and its probabilities are calibrated on those grouped folds. It runs twice: the second pass (another
   logistic regression, trained on the first pass's out-of-fold probabilities) also sees what the first
   made of the paragraph and its neighbours (context.second_pass_features).
3. The topic gate: paragraphs of an article that is not about the dispute are `none` (topic.py).

A paragraph given alone (no article) gets the paragraph stage's answer: the context stage was trained on
paragraphs in their articles and has nothing to go on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from wirestance.classifiers.context import (
    article_context_features,
    articles_context_features,
    lede_actor_flags,
    opener_flags,
    second_pass_features,
)
from wirestance.classifiers.fast_ngrams import transform_texts
from wirestance.classifiers.labels import LABEL_INDEX, LABELS
from wirestance.classifiers.topic import DEFAULT_THRESHOLD, TopicScore, topic_score

if TYPE_CHECKING:  # this module imports no scikit-learn: the exported model (exported.py) labels with it too
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

_NONE = LABEL_INDEX["none"]


@dataclass(frozen=True)
class ArticleText:
    """One article to label: its paragraphs in order, and its headline and lede when known."""

    paragraphs: Sequence[str]
    title: str | None = None
    lede: str | None = None


@dataclass(frozen=True)
class ArticleScores:
    #: (n paragraphs, len(LABELS)) probabilities in LABELS order.
    probabilities: NDArray[np.float64]
    topic: TopicScore = field(default_factory=lambda: TopicScore(1.0, True))


@dataclass(frozen=True)
class ParagraphOutputs:
    """What the paragraph stage computes once per paragraph and the context stage reuses."""

    #: (n, len(LABELS)) calibrated probabilities in LABELS order.
    scores: NDArray[np.float64]
    #: (n, 10) ActorAttribution columns (unweighted).
    actors: NDArray[np.float64]


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
class ArticlePredictions:
    """The labels of one article's paragraphs (in the order given) and the article's topic flag."""

    predictions: Predictions
    on_topic: bool
    topic_score: float


def predictions_of(probabilities: NDArray[np.float64]) -> Predictions:
    """The top label and its probability of each row of (n, len(LABELS)) probabilities."""
    best = probabilities.argmax(axis=1)
    return Predictions(
        labels=[LABELS[i] for i in best],
        confidence=probabilities[np.arange(len(best)), best],
        probabilities=probabilities,
    )


class ArticleScorer(Protocol):
    """What scoring whole articles needs of a model: the fitted one (ArticleStanceModel) or its export."""

    topic_threshold: float

    @property
    def has_context_stage(self) -> bool: ...

    def paragraph_outputs(self, texts: Sequence[str]) -> ParagraphOutputs: ...

    def headline_actors(self, texts: Sequence[str]) -> NDArray[np.float64]: ...

    def context_probabilities(
        self, features: NDArray[np.float64], lengths: Sequence[int]
    ) -> NDArray[np.float64] | None:
        """The context stage's probabilities (LABELS order) of articles of `lengths` paragraphs whose
        articles_context_features rows are `features`; None when the model has no context stage."""
        ...


class ArticleStanceModel:
    """Picklable; the registry stores it as model.joblib. `context_classifier` None: paragraph stage only
    (what a model registered before the context stage existed amounts to); `second_pass` None: the context
    stage runs once (models registered before the second pass)."""

    #: A class attribute too, so that models pickled before it existed load with a one-pass context stage.
    second_pass: LogisticRegression | None = None

    def __init__(
        self,
        paragraph_pipeline: Pipeline,
        context_classifier: LogisticRegression | None,
        *,
        second_pass: LogisticRegression | None = None,
        topic_threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        self.paragraph_pipeline = paragraph_pipeline
        self.context_classifier = context_classifier
        self.second_pass = second_pass
        self.topic_threshold = topic_threshold
        self.classes_ = np.array(LABELS, dtype=object)

    # --- the paragraph stage ---

    def paragraph_outputs(self, texts: Sequence[str]) -> ParagraphOutputs:
        """Paragraph-stage probabilities and the actor columns, each feature block computed once.

        The feature union is applied block by block (as FeatureUnion.transform does) so the actor block is
        kept as computed instead of sliced back out of the stacked matrix. The character tf-idf block is
        computed word by word (fast_ngrams.py): the same matrix as the vectorizer's transform, faster."""
        if len(texts) == 0:
            return ParagraphOutputs(np.zeros((0, len(LABELS))), np.zeros((0, self._actor_width())))
        features = self.paragraph_pipeline.named_steps["features"]
        weights = features.transformer_weights or {}
        batch = list(texts)
        blocks = []
        actors = None
        for name, transformer in features.transformer_list:
            if transformer == "drop":
                continue
            block = transform_texts(transformer, batch)
            if name == "actor":
                actors = block
            weight = weights.get(name)
            blocks.append(block * weight if weight is not None else block)
        matrix = sp.hstack(blocks).tocsr()
        raw = self.paragraph_pipeline.named_steps["classifier"].predict_proba(matrix)
        scores = in_label_order(raw, self.paragraph_pipeline.classes_)
        assert actors is not None, "the paragraph stage has no actor block"
        return ParagraphOutputs(scores, np.asarray(actors.toarray(), dtype=np.float64))

    def predict_proba(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """Probabilities (LABELS order) of paragraphs each taken alone: the paragraph stage as it is."""
        if len(texts) == 0:
            return np.zeros((0, len(LABELS)))
        raw = self.paragraph_pipeline.predict_proba(list(texts))
        return in_label_order(raw, self.paragraph_pipeline.classes_)

    def _actor_attribution(self):
        return self.paragraph_pipeline.named_steps["features"].named_transformers["actor"]

    def _actor_width(self) -> int:
        return len(self._actor_attribution().get_feature_names_out())

    # --- the context stage ---

    @property
    def has_context_stage(self) -> bool:
        return self.context_classifier is not None

    def headline_actors(self, texts: Sequence[str]) -> NDArray[np.float64]:
        return np.asarray(self._actor_attribution().transform(list(texts)).toarray(), dtype=np.float64)

    def context_probabilities(
        self, features: NDArray[np.float64], lengths: Sequence[int]
    ) -> NDArray[np.float64] | None:
        if self.context_classifier is None:
            return None
        first = in_label_order(self.context_classifier.predict_proba(features), self.context_classifier.classes_)
        if self.second_pass is None:
            return first
        second = self.second_pass.predict_proba(second_pass_features(features, first, lengths))
        return in_label_order(second, self.second_pass.classes_)

    def predict_articles(self, articles: Sequence[ArticleText]) -> list[ArticleScores]:
        """Label whole articles; one paragraph-stage call for all their paragraphs."""
        return score_articles(self, articles)


def predict_articles_with(model: ArticleScorer, articles: Sequence[ArticleText]) -> list[ArticlePredictions]:
    """Label whole articles (every paragraph in the context of its article, one model call for all), with
    their topic flags; the articles are checked to be sequences of paragraphs."""
    if isinstance(articles, ArticleText):
        raise TypeError("predict_articles() takes a sequence of articles, not one article")
    for article in articles:
        if isinstance(article.paragraphs, str):
            raise TypeError("an article's paragraphs must be a sequence of texts, not one string")
    return [
        ArticlePredictions(predictions_of(result.probabilities), result.topic.on_topic, result.topic.score)
        for result in score_articles(model, articles)
    ]


def score_articles(model: ArticleScorer, articles: Sequence[ArticleText]) -> list[ArticleScores]:
    """Label whole articles with `model`: one paragraph-stage call for all their paragraphs, then the
    context stage over each article, then the topic gate."""
    texts = [text for article in articles for text in article.paragraphs]
    outputs = model.paragraph_outputs(texts)
    headlines = [" ".join(part for part in (a.title, a.lede) if part) for a in articles]
    headline_actors = model.headline_actors(headlines) if articles else np.zeros((0, 0))
    probabilities_of_all = outputs.scores
    if texts and model.has_context_stage:  # a model without one gives the paragraph stage's scores
        # One context-stage call for every article: per-article calls cost more than the model itself.
        lengths = [len(article.paragraphs) for article in articles]
        firsts = np.cumsum(lengths) - lengths
        lede_actors = np.vstack(
            [
                lede_actor_flags([headline_actors[position], *outputs.actors[first : first + length][:1]])
                for position, (first, length) in enumerate(zip(firsts, lengths, strict=True))
            ]
        )
        openers = np.array([opener_flags(text) for text in texts], dtype=np.float64).reshape(len(texts), 4)
        features = articles_context_features(outputs.scores, outputs.actors, openers, lede_actors, lengths)
        in_context = model.context_probabilities(features, lengths)
        if in_context is not None:
            probabilities_of_all = in_context
    results = []
    offset = 0
    for article in articles:
        n = len(article.paragraphs)
        probabilities = probabilities_of_all[offset : offset + n]
        offset += n
        topic = topic_score(article.paragraphs, article.title, threshold=model.topic_threshold)
        if not topic.on_topic:
            probabilities = off_topic_probabilities(probabilities, topic.score)
        results.append(ArticleScores(probabilities, topic))
    return results


def context_features_for(
    paragraphs: Sequence[str],
    scores: NDArray[np.float64],
    actors: NDArray[np.float64],
    lede_rows: Sequence[NDArray[np.float64]],
) -> NDArray[np.float64]:
    openers = np.array([opener_flags(text) for text in paragraphs], dtype=np.float64).reshape(len(paragraphs), 4)
    return article_context_features(scores, actors, openers, lede_actor_flags(lede_rows))


def off_topic_probabilities(probabilities: NDArray[np.float64], score: float) -> NDArray[np.float64]:
    """An off-topic article's paragraphs are `none`: the stance probabilities shrink by the topic score,
    and `none` takes the rest, so `none` is always the top label (score < threshold <= 0.5)."""
    shrunk = probabilities * score
    shrunk[:, _NONE] += 1.0 - score
    return shrunk


def in_label_order(raw: NDArray[np.float64], classes: Sequence[object]) -> NDArray[np.float64]:
    names = [str(c) for c in classes]
    ordered = np.zeros((raw.shape[0], len(LABELS)), dtype=np.float64)
    for position, label in enumerate(LABELS):
        if label in names:
            ordered[:, position] = raw[:, names.index(label)]
    return ordered
