"""The stance classifier: pipeline, training, grouped cross-validation, the frozen evaluation split, scores.

Every random choice takes `seed`, so the same data and seed give the same model and the same predictions.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from wirestance.classifiers.article_model import (
    ArticleStanceModel,
    ArticleText,
    context_features_for,
    in_label_order,
)
from wirestance.classifiers.context import second_pass_features
from wirestance.classifiers.dataset import LabeledDataError, LabeledDataset
from wirestance.classifiers.ensemble import EpochCappedNetwork, MeanProbabilityEnsemble, NaiveBayesScaledSVM
from wirestance.classifiers.features import ActorAttribution
from wirestance.classifiers.labels import LABELS

DEFAULT_SEED = 0
DEFAULT_EVAL_FRACTION = 0.2
CV_FOLDS = 5
CALIBRATION_FOLDS = 3
#: Folds (by article) of the out-of-fold paragraph scores the context stage is trained on.
CONTEXT_FOLDS = 5
#: Below this many article paragraphs the context stage is not trained (too little to learn order from).
CONTEXT_MIN_ROWS = 200
# Inverse regularisation of the context stage: ~60 dense features, thousands of rows.
CONTEXT_C = 1.0
# Strong-ish regularisation: ~2,000 paragraphs from a few dozen outlets; the model should lean on words
# every outlet uses (delivered, sanctions, F-35, sovereignty) and on who speaks, not on one house style.
SVM_C = 0.5
# Weight of the 11 binary actor columns next to the two L2-normalised tf-idf blocks. Chosen by grouped CV
# and by training on two outlet groups and testing on the third: at 0.5 the binary columns outweigh the
# text and the model labels by mere mention (macro-F1 0.90, below the 0.93 of no actor block at all);
# at 0.1 they settle ties between word cues (0.936 CV, best in all three outlet-transfer tests).
ACTOR_FEATURE_WEIGHT = 0.1
# The network member (ensemble.EpochCappedNetwork): 32 hidden units, a little L2, 25 epochs of mini-batches of
# 1,000 paragraphs, single precision. Measured 2026-12-07 with seeds 0-7 as a third member beside the SVM and
# the NB-SVM: dev macro-F1 0.902 -> 0.912 (no seed down by more than 0.0004), data/candidates 0.930 -> 0.933,
# held-out fifth 0.958 -> 0.957. 64 units scored 0.910 at twice the weights; mini-batches of 200 scored the
# same at 2.5 times the training time.
NETWORK_HIDDEN_UNITS = 32
NETWORK_L2 = 1e-3
NETWORK_EPOCHS = 25
NETWORK_BATCH = 1000
NETWORK_LEARNING_RATE = 0.004


def build_pipeline(seed: int = DEFAULT_SEED, groups: Sequence[str] | None = None) -> Pipeline:
    """An unfitted paragraph-stage pipeline: word + character tf-idf + actor attribution -> calibrated
    linear SVM. With `groups` (one article id per training row) the calibration folds keep articles whole."""
    features = FeatureUnion(
        [
            (
                "word",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    sublinear_tf=True,
                    min_df=2,
                    max_df=0.9,
                    strip_accents="unicode",
                ),
            ),
            (
                "char",
                # 3-5: grouped CV macro-F1 0.9306 against 0.9296 for 2-5 on data/labeled, and 46% more
                # paragraphs per second (5,400 against 3,700): bigrams cost the most and added nothing.
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(3, 5),
                    sublinear_tf=True,
                    min_df=2,
                    strip_accents="unicode",
                ),
            ),
            ("actor", ActorAttribution()),
        ],
        transformer_weights={"word": 1.0, "char": 1.0, "actor": ACTOR_FEATURE_WEIGHT},
    )
    return Pipeline([("features", features), ("classifier", _build_classifier(seed, groups))])


def _build_classifier(seed: int, groups: Sequence[str] | None) -> MeanProbabilityEnsemble:
    """The mean of a calibrated multiclass linear SVM, an NB-SVM and a calibrated one-hidden-layer network on
    the same features (ensemble.py)."""
    return MeanProbabilityEnsemble(
        [
            _calibrated_svm(seed, groups),
            NaiveBayesScaledSVM(partial(_calibrated_svm, seed, groups)),
            _calibrated_network(seed, groups),
        ]
    )


def _calibrated_network(seed: int, groups: Sequence[str] | None) -> CalibratedClassifierCV:
    network = EpochCappedNetwork(
        hidden_layer_sizes=(NETWORK_HIDDEN_UNITS,),
        alpha=NETWORK_L2,
        batch_size=NETWORK_BATCH,
        learning_rate_init=NETWORK_LEARNING_RATE,
        max_iter=NETWORK_EPOCHS,
        random_state=seed,
    )
    return CalibratedClassifierCV(network, method="sigmoid", cv=_calibration_folds(seed, groups))


def _calibrated_svm(seed: int, groups: Sequence[str] | None) -> CalibratedClassifierCV:
    # class_weight: us_objection and turkish_government paragraphs are rarer than background.
    svm = LinearSVC(C=SVM_C, class_weight="balanced", random_state=seed)
    return CalibratedClassifierCV(svm, method="sigmoid", cv=_calibration_folds(seed, groups))


def _forget_calibration_groups(classifier: Any) -> None:
    """A fitted model needs no folds; dropping the article ids they hold keeps the model file small."""
    if isinstance(classifier, CalibratedClassifierCV):
        classifier.cv = CALIBRATION_FOLDS
    elif isinstance(classifier, MeanProbabilityEnsemble):
        for member in classifier.members:
            _forget_calibration_groups(member)
    elif isinstance(classifier, NaiveBayesScaledSVM):
        classifier.make_binary = None
        for binary in classifier.binaries_:
            _forget_calibration_groups(binary)


def _calibration_folds(seed: int, groups: Sequence[str] | None) -> Any:
    """Calibration folds cut by article: a sigmoid fit on paragraphs whose article mates were in the SVM's
    training part would learn that the SVM is surer than it is on a new article."""
    if groups is None or len(set(groups)) < 2 * CALIBRATION_FOLDS:
        return StratifiedKFold(CALIBRATION_FOLDS, shuffle=True, random_state=seed)
    return _GroupedFolds(CALIBRATION_FOLDS, seed, list(groups))


class _GroupedFolds:
    """A CV splitter that cuts by fixed article ids (CalibratedClassifierCV routes no `groups` itself)."""

    def __init__(self, n_splits: int, seed: int, groups: list[str]) -> None:
        self.n_splits = n_splits
        self.seed = seed
        self.groups = groups

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Any:
        folds = StratifiedGroupKFold(self.n_splits, shuffle=True, random_state=self.seed)
        return folds.split(np.zeros(len(self.groups)), y, groups=self.groups)

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        return self.n_splits


def fit_pipeline(dataset: LabeledDataset, seed: int = DEFAULT_SEED) -> Pipeline:
    """Fit a fresh paragraph-stage pipeline on every row of `dataset`."""
    _require_trainable(dataset)
    pipeline = build_pipeline(seed, dataset.groups)
    pipeline.fit(dataset.texts, dataset.labels)
    _forget_calibration_groups(pipeline.named_steps["classifier"])
    return pipeline


def fit_article_model(
    dataset: LabeledDataset, seed: int = DEFAULT_SEED, context_folds: int = CONTEXT_FOLDS
) -> ArticleStanceModel:
    """The paragraph stage on every row, then the context stage on out-of-fold paragraph scores of the
    rows that belong to articles (folds by article). Without enough articles: paragraph stage only."""
    pipeline = fit_pipeline(dataset, seed)
    model = ArticleStanceModel(pipeline, None)
    articles, _alone = dataset.article_positions()
    article_rows = sum(len(positions) for positions in articles)
    if len(articles) < 2 * context_folds or article_rows < CONTEXT_MIN_ROWS:
        return model
    scores, actors = _out_of_fold_outputs(dataset, seed, context_folds, model)
    texts, labels = dataset.texts, dataset.labels
    blocks, targets, article_groups = [], [], []
    for positions in articles:
        first = positions[0]
        lede_rows = [actors[first]]
        blocks.append(
            context_features_for([texts[p] for p in positions], scores[positions], actors[positions], lede_rows)
        )
        targets.extend(labels[p] for p in positions)
        article_groups.extend(dataset.groups[p] for p in positions)
    if len(set(targets)) < len(LABELS):  # a context stage blind to a label would never predict it
        return model
    features = np.vstack(blocks)
    # No class weights: the context stage gives the final probabilities, and reweighting classes would
    # shift them away from observed frequencies (grouped CV: 0.948 unweighted against 0.947 balanced).
    context = build_context_classifier(seed)
    context.fit(features, targets)
    # The second pass learns from what the first makes of articles it never saw, as the first learns
    # from out-of-fold paragraph scores.
    lengths = [len(positions) for positions in articles]
    first_pass = _out_of_fold_context(features, targets, article_groups, seed, context_folds)
    second_pass = build_context_classifier(seed)
    second_pass.fit(second_pass_features(features, first_pass, lengths), targets)
    return ArticleStanceModel(pipeline, context, second_pass=second_pass)


def _out_of_fold_context(
    features: NDArray[np.float64], targets: Sequence[str], groups: Sequence[str], seed: int, folds: int
) -> NDArray[np.float64]:
    """First-pass context probabilities (LABELS order) of every row from a context stage that never saw its
    article (folds by article)."""
    labels = np.array(targets, dtype=object)
    probabilities = np.zeros((len(labels), len(LABELS)))
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_index, test_index in splitter.split(features, labels, groups=list(groups)):
        context = build_context_classifier(seed).fit(features[train_index], labels[train_index])
        probabilities[test_index] = in_label_order(context.predict_proba(features[test_index]), context.classes_)
    return probabilities


def build_context_classifier(seed: int = DEFAULT_SEED) -> LogisticRegression:
    """The unfitted context stage."""
    return LogisticRegression(C=CONTEXT_C, max_iter=5000)


def _out_of_fold_outputs(
    dataset: LabeledDataset, seed: int, folds: int, full: ArticleStanceModel
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Paragraph-stage scores of every row from a classifier that never saw its article.

    The feature blocks (tf-idf vocabularies and weights, actor rules) are the full model's, fitted without
    labels on every row; only the supervised part (SVM + calibration) is refitted per fold. That keeps the
    labels out of fold and costs one vectorisation instead of one per fold (training time: the first
    champion is trained on demand)."""
    features = full.paragraph_pipeline.named_steps["features"]
    matrix = sp.csr_matrix(features.transform(dataset.texts))
    labels = np.array(dataset.labels, dtype=object)
    groups = dataset.groups
    scores = np.zeros((len(dataset), len(LABELS)))
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_index, test_index in splitter.split(matrix, labels, groups=groups):
        classifier = _build_classifier(seed, [groups[i] for i in train_index])
        classifier.fit(matrix[train_index], labels[train_index])
        scores[test_index] = in_label_order(classifier.predict_proba(matrix[test_index]), classifier.classes_)
    actors = full.paragraph_outputs(dataset.texts).actors
    return scores, actors


def _require_trainable(dataset: LabeledDataset) -> None:
    short = [
        f"{dataset.origin}: label {label!r} has {count} training row(s); at least {CALIBRATION_FOLDS} needed"
        for label, count in dataset.label_counts().items()
        if count < CALIBRATION_FOLDS
    ]
    if short:
        raise LabeledDataError(short)


def dataset_probabilities(model: ArticleStanceModel, dataset: LabeledDataset) -> NDArray[np.float64]:
    """Probabilities (LABELS order) of every row: article rows labelled together in para_index order,
    the others alone. Rows of labelled sets carry no headline, so only the lede paragraph informs the
    headline features."""
    probabilities = np.zeros((len(dataset), len(LABELS)))
    articles, alone = dataset.article_positions()
    texts = dataset.texts
    results = model.predict_articles([ArticleText([texts[p] for p in positions]) for positions in articles])
    for positions, result in zip(articles, results, strict=True):
        probabilities[positions] = result.probabilities
    if alone:
        probabilities[alone] = model.predict_proba([texts[p] for p in alone])
    return probabilities


def dataset_predictions(model: ArticleStanceModel, dataset: LabeledDataset) -> list[str]:
    return [LABELS[i] for i in dataset_probabilities(model, dataset).argmax(axis=1)]


# --- scores ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelScores:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class EvaluationReport:
    """Scores of one model on one set of labelled rows."""

    #: Mean F1 over the labels that occur in the gold labels.
    macro_f1: float
    per_label: Mapping[str, LabelScores]
    #: Rows: gold label, columns: predicted label, both in LABELS order.
    confusion: tuple[tuple[int, ...], ...]
    n_rows: int

    @property
    def per_label_f1(self) -> dict[str, float]:
        return {label: scores.f1 for label, scores in self.per_label.items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "macro_f1": self.macro_f1,
            "per_label": {label: asdict(scores) for label, scores in self.per_label.items()},
            "confusion": [list(row) for row in self.confusion],
            "n_rows": self.n_rows,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvaluationReport:
        return cls(
            macro_f1=float(data["macro_f1"]),
            per_label={label: LabelScores(**scores) for label, scores in data["per_label"].items()},
            confusion=tuple(tuple(int(v) for v in row) for row in data["confusion"]),
            n_rows=int(data["n_rows"]),
        )


def score_predictions(gold: Sequence[str], predicted: Sequence[str]) -> EvaluationReport:
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=list(LABELS), zero_division=0
    )
    per_label = {
        label: LabelScores(float(precision[i]), float(recall[i]), float(f1[i]), int(support[i]))
        for i, label in enumerate(LABELS)
    }
    # A label absent from the gold rows has no meaningful F1; averaging its 0 in would punish every model.
    present = [scores.f1 for scores in per_label.values() if scores.support > 0]
    matrix = confusion_matrix(gold, predicted, labels=list(LABELS))
    return EvaluationReport(
        macro_f1=float(np.mean(present)) if present else 0.0,
        per_label=per_label,
        confusion=tuple(tuple(int(v) for v in row) for row in matrix),
        n_rows=len(gold),
    )


# --- grouped cross-validation ---------------------------------------------------------------------


@dataclass(frozen=True)
class CrossValidationReport:
    n_splits: int
    #: Scores of the pooled out-of-fold predictions.
    pooled: EvaluationReport
    fold_macro_f1: tuple[float, ...]
    #: Out-of-fold probabilities (rows in dataset order, LABELS columns): what label-issue search uses.
    probabilities: NDArray[np.float64] | None = field(default=None, compare=False, repr=False)

    @property
    def macro_f1(self) -> float:
        return self.pooled.macro_f1

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_splits": self.n_splits,
            "macro_f1": self.macro_f1,
            "per_label_f1": self.pooled.per_label_f1,
            "fold_macro_f1": list(self.fold_macro_f1),
            "pooled": self.pooled.to_dict(),
        }


def cross_validate(
    dataset: LabeledDataset, seed: int = DEFAULT_SEED, n_splits: int = CV_FOLDS
) -> CrossValidationReport:
    """Out-of-fold scores with folds cut by article, so no article's paragraphs leak between folds."""
    _require_trainable(dataset)
    n_splits = min(n_splits, len(set(dataset.groups)))
    folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    labels = np.array(dataset.labels, dtype=object)
    probabilities = np.zeros((len(dataset), len(LABELS)))
    fold_scores = []
    for train_index, test_index in folds.split(np.zeros(len(dataset)), labels, groups=dataset.groups):
        model = fit_article_model(dataset.subset(train_index), seed)
        fold_probabilities = dataset_probabilities(model, dataset.subset(test_index))
        probabilities[test_index] = fold_probabilities
        fold_predicted = [LABELS[i] for i in fold_probabilities.argmax(axis=1)]
        fold_scores.append(score_predictions(list(labels[test_index]), fold_predicted).macro_f1)
    predicted = [LABELS[i] for i in probabilities.argmax(axis=1)]
    return CrossValidationReport(
        n_splits, score_predictions(list(labels), predicted), tuple(fold_scores), probabilities
    )


# --- the frozen evaluation split ------------------------------------------------------------------


@dataclass(frozen=True)
class EvaluationSplit:
    train: LabeledDataset
    evaluation: LabeledDataset
    fraction: float
    seed: int

    @property
    def hash(self) -> str:
        """SHA-256 of the evaluation rows' ids and texts: proves two models were scored on the same rows."""
        return self.evaluation.rows_hash()

    def summary(self) -> dict[str, Any]:
        return {
            "hash": self.hash,
            "fraction": self.fraction,
            "seed": self.seed,
            "evaluation_rows": len(self.evaluation),
            "training_rows": len(self.train),
        }


def split_for_evaluation(
    dataset: LabeledDataset, fraction: float = DEFAULT_EVAL_FRACTION, seed: int = DEFAULT_SEED
) -> EvaluationSplit:
    """Hold out whole articles, chosen by a hash of their id.

    An article's side depends only on its id, the seed and the fraction, never on the other rows: when
    labelled data grows, old evaluation articles stay in evaluation, so a champion trained on an earlier
    split never saw the rows a challenger is compared with it on.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"eval_fraction must be between 0 and 1, got {fraction}")
    held_out = {group for group in set(dataset.groups) if _group_position(group, seed) < fraction}
    evaluation = [i for i, group in enumerate(dataset.groups) if group in held_out]
    training = [i for i, group in enumerate(dataset.groups) if group not in held_out]
    if not evaluation or not training:
        raise LabeledDataError(
            [
                f"{dataset.origin}: eval_fraction={fraction} leaves {len(evaluation)} evaluation and "
                f"{len(training)} training rows; more articles are needed"
            ]
        )
    return EvaluationSplit(dataset.subset(training), dataset.subset(evaluation), fraction, seed)


def _group_position(group: str, seed: int) -> float:
    """A uniform number in [0, 1) fixed by the article id and the seed."""
    digest = hashlib.sha256(f"{seed}\0{group}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


# --- a trained model and what it learnt -----------------------------------------------------------


@dataclass(frozen=True)
class TrainedModel:
    """A fitted pipeline and the facts about its training that the registry records."""

    #: The fitted article-aware model (named `pipeline` for callers written before the context stage).
    pipeline: ArticleStanceModel
    seed: int
    training_data_hash: str
    training_rows: int
    split: Mapping[str, Any]
    cross_validation: CrossValidationReport | None


def train_model(split: EvaluationSplit, *, cv_folds: int = CV_FOLDS) -> TrainedModel:
    """Cross-validate on the training part (cv_folds=0 skips it), then fit on all of the training part."""
    cv = cross_validate(split.train, split.seed, cv_folds) if cv_folds > 1 else None
    pipeline = fit_article_model(split.train, split.seed)
    return TrainedModel(
        pipeline=pipeline,
        seed=split.seed,
        training_data_hash=split.train.content_hash(),
        training_rows=len(split.train),
        split=split.summary(),
        cross_validation=cv,
    )


def linear_weights(model: Pipeline | ArticleStanceModel) -> tuple[list[str], list[str], NDArray[np.float64]]:
    """(feature names, class names, weights of shape (classes, features)) of the paragraph stage: the mean of
    its linear members' weights on the unscaled features (each averaged over calibration folds)."""
    pipeline = model.paragraph_pipeline if isinstance(model, ArticleStanceModel) else model
    classifier = pipeline.named_steps["classifier"]
    classes = [str(c) for c in classifier.classes_]
    members = classifier.members if isinstance(classifier, MeanProbabilityEnsemble) else [classifier]
    weights = np.mean([_member_weights(member) for member in members if _is_linear(member)], axis=0)
    names = [str(name) for name in pipeline.named_steps["features"].get_feature_names_out()]
    return names, classes, weights


def linear_paragraph_stage(pipeline: Pipeline) -> Pipeline:
    """A copy of a fitted paragraph stage with its linear members only (the SVM and NB-SVM mean it was before
    the network member): the bench's floor for labelling speed."""
    linear = copy.deepcopy(pipeline)
    classifier = linear.named_steps["classifier"]
    if isinstance(classifier, MeanProbabilityEnsemble):
        classifier.members = [member for member in classifier.members if _is_linear(member)]
    return linear


def _is_linear(member: Any) -> bool:
    """The network member has no weight per feature to show; the linear members explain the label."""
    return not (isinstance(member, CalibratedClassifierCV) and isinstance(member.estimator, EpochCappedNetwork))


def _member_weights(member: Any) -> NDArray[np.float64]:
    if isinstance(member, NaiveBayesScaledSVM):
        return member.linear_weights()
    calibrated: CalibratedClassifierCV = member
    coefs = [np.asarray(fold.estimator.coef_, dtype=np.float64) for fold in calibrated.calibrated_classifiers_]
    weights = np.mean(coefs, axis=0)
    if weights.shape[0] == 1:  # binary problem: one row, positive = second class
        weights = np.vstack([-weights[0], weights[0]])
    return weights


def top_features(pipeline: Pipeline | ArticleStanceModel, per_label: int = 10) -> dict[str, list[tuple[str, float]]]:
    """The features with the largest positive weight for each label."""
    names, classes, weights = linear_weights(pipeline)
    result = {}
    for row, label in enumerate(classes):
        order = np.argsort(-weights[row], kind="stable")[:per_label]
        result[label] = [(names[i], float(weights[row, i])) for i in order]
    return result
