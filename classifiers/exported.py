"""A registered stance model exported to plain arrays: labelling in a process that never imports scikit-learn.

Why: a reprocess worker that unpickles the fitted model imports scikit-learn, and with it SciPy's statistics
and pandas: ~100 MB of each worker's ~280 MB (measured 2026-12-06), and ~2 s of CPU per worker start. The
export holds what prediction reads of the fitted model (tf-idf blocks, see exported_text.py; the actor
window; the linear models' weights and sigmoid calibrators; the weights of the context stage's two passes;
the topic threshold) and computes the same probabilities with NumPy and SciPy's sparse matrices.

Every linear score of the paragraph stage (each calibration fold of the multiclass SVM, each fold of each
NB-SVM binary, whose log-count ratios are folded into its weights) is one column of a single weight matrix:
one sparse product per batch instead of one per fold. The columns are then combined as the fitted
classifiers do: a sigmoid per column, normalised per fold (multiclass) or taken as the positive class
(binary), averaged over folds, NB-SVM binaries normalised over labels, ensemble members averaged. The network
member's hidden layers (one per calibration fold) are likewise one matrix: one sparse product for all folds,
then each fold's output layer, softmax and sigmoid calibrators.

`export_model` checks the export against the fitted model on probe articles made from the model's own
vocabulary before it is written; the registry stores it next to model.joblib (EXPORT_FILE) with its SHA-256.
`.npz` read with allow_pickle=False: loading an export runs no code.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from wirestance.classifiers.actors import actor_features
from wirestance.classifiers.article_model import (
    ArticlePredictions,
    ArticleText,
    ParagraphOutputs,
    Predictions,
    in_label_order,
    predict_articles_with,
    predictions_of,
)
from wirestance.classifiers.context import second_pass_features
from wirestance.classifiers.exported_text import ExportError, TextBlock
from wirestance.classifiers.labels import LABELS

__all__ = ["EXPORT_FILE", "ExportError", "ExportedModel", "export_model", "file_sha256", "load_export"]

EXPORT_FILE = "model.npz"
#: (coef, intercept, classes) of a multinomial logistic regression.
LogisticWeights = tuple[NDArray[np.float64], NDArray[np.float64], list[str]]
#: The registry's per-version metadata file, and its field holding the export's SHA-256 ("": no export).
METADATA_FILE = "metadata.json"
EXPORT_SHA256_FIELD = "export_sha256"
#: Bumped when the layout of the file changes; a reader refuses formats it does not know. Format 2 added
#: the context stage's second pass (a format-1 file has none), format 3 the network member (format 1 and 2
#: files have none).
FORMAT = 3
READABLE_FORMATS = (1, 2, 3)
#: Largest difference of any probability between the export and the fitted model on the probe articles.
TOLERANCE = 1e-9
_CLIP = 1e-5  # calibrated probabilities in (1, 1 + _CLIP] are 1, as the fitted calibrated classifier does


@dataclass(frozen=True)
class NetworkWeights:
    """The network member's fitted layers, one network per calibration fold: every fold's hidden weights side
    by side in one (features x all hidden units) matrix, and per fold its slice of the hidden units and its
    output layer (softmax over the classes it saw, or one logistic unit for two classes)."""

    #: Single precision as trained (ensemble.EpochCappedNetwork); products with the float64 features are float64.
    hidden_weights: NDArray[np.floating[Any]]
    hidden_bias: NDArray[np.floating[Any]]
    #: Per network: (first hidden unit, one past the last), output weights, output bias.
    layers: tuple[tuple[tuple[int, int], NDArray[np.floating[Any]], NDArray[np.floating[Any]]], ...]

    def responses(self, features: sp.csr_matrix) -> list[NDArray[np.float64]]:
        """Each network's predict_proba as calibration reads it (MLPClassifier's forward pass): for two
        classes, the positive class's probability as one column."""
        hidden = features @ self.hidden_weights
        hidden += self.hidden_bias
        np.maximum(hidden, 0.0, out=hidden)
        outputs = []
        for (start, stop), weights, bias in self.layers:
            output = hidden[:, start:stop] @ weights
            output += bias
            if output.shape[1] == 1:
                outputs.append(_expit(output))
                continue
            output -= output.max(axis=1)[:, np.newaxis]
            np.exp(output, out=output)
            output /= output.sum(axis=1)[:, np.newaxis]
            outputs.append(output)
        return outputs


class ExportedModel:
    """The exported model: labels articles and paragraphs as the fitted model it was exported from."""

    def __init__(
        self,
        version: str,
        blocks: list[tuple[str, TextBlock | None, float | None]],
        actor_window: int,
        actor_width: int,
        weights: NDArray[np.float64],
        intercepts: NDArray[np.float64],
        slopes: NDArray[np.float64],
        offsets: NDArray[np.float64],
        classifier: dict[str, Any],
        context: LogisticWeights | None,
        topic_threshold: float,
        *,
        second_pass: LogisticWeights | None = None,
        networks: NetworkWeights | None = None,
    ) -> None:
        self.version = version
        #: (name, tf-idf block or None for the actor block, weight or None) in feature-union order.
        self.blocks = blocks
        self.actor_window = actor_window
        self.actor_width = actor_width
        #: (features x linear columns) weights, and per column its intercept and sigmoid (slope, offset).
        self.weights = weights
        self.intercepts = intercepts
        self.slopes = slopes
        self.offsets = offsets
        #: How the columns combine into probabilities (nested: mean / nb / calibrated), with class names.
        self.classifier = classifier
        #: The context stage's passes: (coef, intercept, classes) of multinomial logistic regressions; None
        #: when the model has no context stage / the context stage runs once.
        self.context = context
        self.second_pass = second_pass
        #: The network member's layers; None when the paragraph stage has no network (formats 1 and 2).
        self.networks = networks
        self.topic_threshold = topic_threshold
        self.labels: tuple[str, ...] = LABELS

    # --- what article scoring needs (article_model.ArticleScorer) ---

    def paragraph_outputs(self, texts: Sequence[str]) -> ParagraphOutputs:
        batch = list(texts)
        actors = self._actors(batch)
        if not batch:
            return ParagraphOutputs(np.zeros((0, len(LABELS))), actors)
        columns = []
        for _name, block, weight in self.blocks:
            matrix = block.transform(batch) if block is not None else sp.csr_matrix(actors)
            columns.append(matrix * weight if weight is not None else matrix)
        features = sp.hstack(columns).tocsr()
        scores = features @ self.weights + self.intercepts
        sigmoid = _expit(-(self.slopes * scores + self.offsets))
        responses = self.networks.responses(features) if self.networks is not None else []
        probabilities, classes = _combine(self.classifier, sigmoid, responses)
        return ParagraphOutputs(in_label_order(probabilities, classes), actors)

    def headline_actors(self, texts: Sequence[str]) -> NDArray[np.float64]:
        return self._actors(list(texts))

    @property
    def has_context_stage(self) -> bool:
        return self.context is not None

    def context_probabilities(
        self, features: NDArray[np.float64], lengths: Sequence[int]
    ) -> NDArray[np.float64] | None:
        if self.context is None:
            return None
        first = _softmax_probabilities(self.context, features)
        if self.second_pass is None:
            return first
        return _softmax_probabilities(self.second_pass, second_pass_features(features, first, lengths))

    # --- what the pipeline needs of a labeller (wirestance.resources.StanceLabeller) ---

    def predict(self, texts: Sequence[str]) -> Predictions:
        """Each text labelled alone (the paragraph stage only), like StanceModel.predict."""
        if isinstance(texts, str):
            raise TypeError("predict() takes a sequence of texts, not one string")
        return predictions_of(self.paragraph_outputs(texts).scores)

    def predict_articles(self, articles: Sequence[ArticleText]) -> list[ArticlePredictions]:
        return predict_articles_with(self, articles)

    def _actors(self, texts: list[str]) -> NDArray[np.float64]:
        rows = [actor_features(text, self.actor_window)[: self.actor_width] for text in texts]
        return np.array(rows, dtype=np.float64).reshape(len(rows), self.actor_width)

    # --- the file ---

    def save(self, path: Path) -> None:
        arrays: dict[str, Any] = {
            "weights": self.weights,
            "intercepts": self.intercepts,
            "slopes": self.slopes,
            "offsets": self.offsets,
        }
        blocks = []
        for position, (name, block, weight) in enumerate(self.blocks):
            entry: dict[str, Any] = {"name": name, "weight": weight, "text": None}
            if block is not None:
                entry["text"] = block.settings()
                arrays[f"terms_{position}"] = np.array(block.terms, dtype=str)
                if block.idf is not None:
                    arrays[f"idf_{position}"] = block.idf
            blocks.append(entry)
        header: dict[str, Any] = {
            "format": FORMAT,
            "labels": list(LABELS),
            "blocks": blocks,
            "actor_window": self.actor_window,
            "actor_width": self.actor_width,
            "classifier": self.classifier,
            "context_classes": None,
            "second_pass_classes": None,
            "topic_threshold": self.topic_threshold,
        }
        if self.context is not None:
            arrays["context_coef"], arrays["context_intercept"], header["context_classes"] = self.context
        if self.second_pass is not None:
            arrays["second_pass_coef"], arrays["second_pass_intercept"], header["second_pass_classes"] = (
                self.second_pass
            )
        header["network_units"] = None
        if self.networks is not None:
            arrays["network_hidden_weights"] = self.networks.hidden_weights
            arrays["network_hidden_bias"] = self.networks.hidden_bias
            header["network_units"] = [list(units) for units, _weights, _bias in self.networks.layers]
            for position, (_units, weights, bias) in enumerate(self.networks.layers):
                arrays[f"network_{position}_output_weights"] = weights
                arrays[f"network_{position}_output_bias"] = bias
        arrays["header"] = np.array(json.dumps(header))
        with open(path, "wb") as handle:
            np.savez(handle, **arrays)

    @classmethod
    def load(cls, path: Path, version: str) -> ExportedModel:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        try:
            header = json.loads(str(arrays["header"]))
            if header["format"] not in READABLE_FORMATS:
                raise ExportError(
                    f"{path}: export format {header['format']!r}, this reader knows {list(READABLE_FORMATS)}"
                )
            if tuple(header["labels"]) != LABELS:
                raise ExportError(f"{path}: trained for labels {header['labels']}, expected {list(LABELS)}")
            blocks = []
            for position, entry in enumerate(header["blocks"]):
                text = entry["text"]
                block = None
                if text is not None:
                    block = TextBlock(
                        analyzer=text["analyzer"],
                        ngram_range=(int(text["ngram_range"][0]), int(text["ngram_range"][1])),
                        lowercase=bool(text["lowercase"]),
                        strip_accents=text["strip_accents"],
                        token_pattern=text["token_pattern"],
                        sublinear_tf=bool(text["sublinear_tf"]),
                        norm=text["norm"],
                        terms=arrays[f"terms_{position}"].tolist(),
                        idf=arrays.get(f"idf_{position}"),
                    )
                blocks.append((str(entry["name"]), block, entry["weight"]))
            context = second_pass = None
            if header["context_classes"] is not None:
                context = (arrays["context_coef"], arrays["context_intercept"], list(header["context_classes"]))
            if header.get("second_pass_classes") is not None:  # format 1 has no second pass
                classes = list(header["second_pass_classes"])
                second_pass = (arrays["second_pass_coef"], arrays["second_pass_intercept"], classes)
            networks = None
            if header.get("network_units") is not None:  # formats 1 and 2 have no network member
                networks = NetworkWeights(
                    arrays["network_hidden_weights"],
                    arrays["network_hidden_bias"],
                    tuple(
                        (
                            (int(start), int(stop)),
                            arrays[f"network_{position}_output_weights"],
                            arrays[f"network_{position}_output_bias"],
                        )
                        for position, (start, stop) in enumerate(header["network_units"])
                    ),
                )
            return cls(
                version,
                blocks,
                int(header["actor_window"]),
                int(header["actor_width"]),
                arrays["weights"],
                arrays["intercepts"],
                arrays["slopes"],
                arrays["offsets"],
                header["classifier"],
                context,
                float(header["topic_threshold"]),
                second_pass=second_pass,
                networks=networks,
            )
        except ExportError:
            raise
        except (KeyError, TypeError, ValueError) as error:
            raise ExportError(f"{path}: not a readable model export ({error!r})") from error


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_export(models_dir: str | os.PathLike[str], version: str) -> ExportedModel | None:
    """A registered version's export, after checking it against the SHA-256 in the version's metadata;
    None when the version has none (registered before exports existed, or holding a part not exported).
    A missing, modified or unreadable export that the metadata names is an error, never a silent fallback."""
    folder = Path(models_dir) / version
    meta_path = folder / METADATA_FILE
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LookupError(f"no model version {version!r} in {models_dir}") from None
    except ValueError as error:
        raise ExportError(f"{meta_path}: unreadable metadata ({error})") from error
    expected = meta.get(EXPORT_SHA256_FIELD) or ""
    if not expected:
        return None
    path = folder / EXPORT_FILE
    try:
        actual = file_sha256(path)
    except FileNotFoundError:
        raise ExportError(f"{path}: the export its metadata names is missing") from None
    if actual != expected:
        raise ExportError(f"{path}: SHA-256 {actual} does not match {expected} in {METADATA_FILE}; refusing it")
    if tuple(meta.get("labels", ())) != LABELS:
        raise ExportError(f"{path}: trained for labels {meta.get('labels')}, expected {list(LABELS)}")
    return ExportedModel.load(path, version)


# --- combining the linear columns as the fitted classifiers do ---------------------------------------


def _expit(values: NDArray[np.float64]) -> NDArray[np.float64]:
    out: NDArray[np.float64] = 1.0 / (1.0 + np.exp(-values))
    return out


def _combine(
    node: dict[str, Any], sigmoid: NDArray[np.float64], responses: Sequence[NDArray[np.float64]]
) -> tuple[NDArray[np.float64], list[str]]:
    """(probabilities, class names) of one node of the classifier tree, from the linear columns' sigmoids and
    the networks' responses (NetworkWeights.responses)."""
    kind = node["kind"]
    classes = list(node["classes"])
    if kind == "calibrated":
        total = np.zeros((sigmoid.shape[0], len(classes)))
        for fold in node["folds"]:
            total += _calibrated_fold(fold, sigmoid, len(classes))
        return total / len(node["folds"]), classes
    if kind == "calibrated_network":
        total = np.zeros((sigmoid.shape[0], len(classes)))
        for fold in node["folds"]:
            total += _calibrated_network_fold(fold, responses, len(classes))
        return total / len(node["folds"]), classes
    if kind == "nb":
        positives = np.column_stack([_combine(binary, sigmoid, responses)[0][:, 1] for binary in node["binaries"]])
        return positives / positives.sum(axis=1, keepdims=True), classes
    if kind == "mean":
        members = []
        for member in node["members"]:
            probabilities, names = _combine(member, sigmoid, responses)
            if names != classes:
                raise ExportError(f"an ensemble member's classes {names} are not the ensemble's {classes}")
            members.append(probabilities)
        return np.mean(members, axis=0), classes
    raise ExportError(f"unknown classifier node {kind!r}")


def _calibrated_fold(columns: list[int], sigmoid: NDArray[np.float64], n_classes: int) -> NDArray[np.float64]:
    """One calibration fold: `columns[i]` is the sigmoid column of class i (-1: the fold never saw it)."""
    return _normalised_fold(sigmoid, columns, n_classes)


def _calibrated_network_fold(
    fold: dict[str, Any], responses: Sequence[NDArray[np.float64]], n_classes: int
) -> NDArray[np.float64]:
    """One calibration fold of the network member: a sigmoid of each response column, at its class."""
    response = responses[fold["network"]]
    sigmoid = _expit(-(np.asarray(fold["slopes"]) * response + np.asarray(fold["offsets"])))
    columns = [-1] * n_classes
    for column, position in enumerate(fold["positions"]):
        columns[position] = column
    return _normalised_fold(sigmoid, columns, n_classes)


def _normalised_fold(sigmoid: NDArray[np.float64], columns: list[int], n_classes: int) -> NDArray[np.float64]:
    """A calibration fold's probabilities from its classes' sigmoid columns, as the fitted fold computes them."""
    proba = np.zeros((sigmoid.shape[0], n_classes))
    if n_classes == 2:
        proba[:, 1] = sigmoid[:, columns[1]]
        proba[:, 0] = 1.0 - proba[:, 1]
    else:
        for position, column in enumerate(columns):
            if column >= 0:
                proba[:, position] = sigmoid[:, column]
        totals = proba.sum(axis=1, keepdims=True)
        proba = np.divide(proba, totals, out=np.full_like(proba, 1.0 / n_classes), where=totals != 0)
    proba[(proba > 1.0) & (proba <= 1.0 + _CLIP)] = 1.0
    return proba


# --- export ----------------------------------------------------------------------------------------


class _Columns:
    """The linear columns collected while walking the fitted classifier."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.weights: list[NDArray[np.float64]] = []
        self.intercepts: list[float] = []
        self.slopes: list[float] = []
        self.offsets: list[float] = []
        #: (hidden weights, hidden bias, output weights, output bias) of every network met.
        self.networks: list[tuple[NDArray[np.floating[Any]], ...]] = []

    def add(self, weights: NDArray[np.float64], intercept: float, calibrator: Any) -> int:
        if weights.shape != (self.width,):
            raise ExportError(f"a linear model of {weights.shape} weights on {self.width} features")
        if type(calibrator).__name__ != "_SigmoidCalibration":
            raise ExportError(f"calibrator {type(calibrator).__name__} is not exported (sigmoid only)")
        self.weights.append(np.asarray(weights, dtype=np.float64))
        self.intercepts.append(float(intercept))
        self.slopes.append(float(calibrator.a_))
        self.offsets.append(float(calibrator.b_))
        return len(self.weights) - 1

    def add_network(self, network: Any) -> int:
        """A fitted one-hidden-layer MLPClassifier (relu, softmax or logistic output); its index."""
        if network.n_layers_ != 3 or network.activation != "relu":
            raise ExportError(
                f"a network of {network.n_layers_ - 2} hidden layers, {network.activation!r} activation "
                "(one relu layer only)"
            )
        if network.out_activation_ not in ("softmax", "logistic"):
            raise ExportError(f"a network with {network.out_activation_!r} output")
        # In the precision the network was trained in (single: ensemble.EpochCappedNetwork), so that the
        # export computes what the fitted network computes, and is no larger.
        hidden, output = (np.asarray(coef) for coef in network.coefs_)
        if hidden.shape[0] != self.width:
            raise ExportError(f"a network of {hidden.shape[0]} inputs on {self.width} features")
        hidden_bias, output_bias = (np.asarray(bias) for bias in network.intercepts_)
        self.networks.append((hidden, hidden_bias, output, output_bias))
        return len(self.networks) - 1

    def network_weights(self) -> NetworkWeights | None:
        if not self.networks:
            return None
        layers = []
        start = 0
        for hidden, _bias, output, output_bias in self.networks:
            layers.append(((start, start + hidden.shape[1]), output, output_bias))
            start += hidden.shape[1]
        return NetworkWeights(
            np.hstack([hidden for hidden, *_ in self.networks]),
            np.concatenate([bias for _hidden, bias, *_ in self.networks]),
            tuple(layers),
        )


def _classifier_node(classifier: Any, columns: _Columns, ratio: NDArray[np.float64] | None = None) -> dict[str, Any]:
    name = type(classifier).__name__
    classes = [str(c) for c in classifier.classes_]
    if name == "MeanProbabilityEnsemble":
        members = [_classifier_node(member, columns) for member in classifier.members]
        return {"kind": "mean", "classes": classes, "members": members}
    if name == "NaiveBayesScaledSVM":
        binaries = [
            _classifier_node(binary, columns, np.asarray(scale, dtype=np.float64))
            for scale, binary in zip(classifier.ratios_, classifier.binaries_, strict=True)
        ]
        return {"kind": "nb", "classes": classes, "binaries": binaries}
    if name == "CalibratedClassifierCV":
        if classifier.method != "sigmoid":
            raise ExportError(f"calibration method {classifier.method!r} is not exported (sigmoid only)")
        if all(_is_network(fold.estimator) for fold in classifier.calibrated_classifiers_) and ratio is None:
            network_folds = [_network_fold(fold, classes, columns) for fold in classifier.calibrated_classifiers_]
            return {"kind": "calibrated_network", "classes": classes, "folds": network_folds}
        folds = [_calibrated_fold_columns(fold, classes, columns, ratio) for fold in classifier.calibrated_classifiers_]
        return {"kind": "calibrated", "classes": classes, "folds": folds}
    raise ExportError(f"classifier {name} is not exported")


def _is_network(estimator: Any) -> bool:
    return any(cls.__name__ == "MLPClassifier" for cls in type(estimator).__mro__)


def _network_fold(fold: Any, classes: list[str], columns: _Columns) -> dict[str, Any]:
    """A calibration fold of the network member: its network, and per response column (the classes the
    network saw; for two classes the positive one) the class position and the sigmoid calibrator."""
    network = fold.estimator
    seen = [str(c) for c in network.classes_]
    if len(classes) == 2:
        if seen != classes:
            raise ExportError(f"a binary network fold that learnt {seen} of {classes}")
        seen = seen[1:]
    if len(seen) != len(fold.calibrators):
        raise ExportError(f"a network fold with {len(fold.calibrators)} calibrators for classes {seen}")
    for calibrator in fold.calibrators:
        if type(calibrator).__name__ != "_SigmoidCalibration":
            raise ExportError(f"calibrator {type(calibrator).__name__} is not exported (sigmoid only)")
    return {
        "network": columns.add_network(network),
        "positions": [classes.index(label) for label in seen],
        "slopes": [float(calibrator.a_) for calibrator in fold.calibrators],
        "offsets": [float(calibrator.b_) for calibrator in fold.calibrators],
    }


def _calibrated_fold_columns(
    fold: Any, classes: list[str], columns: _Columns, ratio: NDArray[np.float64] | None
) -> list[int]:
    estimator = fold.estimator
    if type(estimator).__name__ != "LinearSVC":
        raise ExportError(f"calibrated {type(estimator).__name__} is not exported (LinearSVC only)")
    coef = np.asarray(estimator.coef_, dtype=np.float64)
    intercept = np.broadcast_to(np.asarray(estimator.intercept_, dtype=np.float64), (coef.shape[0],))
    if ratio is not None:  # NB-SVM: the fold scores the features scaled by the log-count ratios
        coef = coef * ratio
    seen = [str(c) for c in estimator.classes_]
    if len(classes) == 2:
        if seen != classes or coef.shape[0] != 1:
            raise ExportError(f"a binary fold that learnt {seen} of {classes}")
        return [-1, columns.add(coef[0], intercept[0], fold.calibrators[0])]
    fold_columns = [-1] * len(classes)
    for row, (label, calibrator) in enumerate(zip(seen, fold.calibrators, strict=True)):
        fold_columns[classes.index(label)] = columns.add(coef[row], intercept[row], calibrator)
    return fold_columns


def export_model(model: Any, version: str) -> ExportedModel:
    """The export of a fitted ArticleStanceModel (or a bare paragraph-stage pipeline), checked against it on
    probe articles (`TOLERANCE`); ExportError when it holds a part the export does not cover or differs."""
    pipeline = getattr(model, "paragraph_pipeline", model)
    context_classifier = getattr(model, "context_classifier", None)
    features = pipeline.named_steps["features"]
    weights_by_name = features.transformer_weights or {}
    blocks: list[tuple[str, TextBlock | None, float | None]] = []
    actor_window = actor_width = None
    for name, transformer in features.transformer_list:
        if transformer == "drop":
            continue
        weight = weights_by_name.get(name)
        if type(transformer).__name__ == "ActorAttribution":
            actor_window, actor_width = int(transformer.window), len(transformer.feature_names_)
            blocks.append((name, None, None if weight is None else float(weight)))
        else:
            blocks.append((name, TextBlock.from_vectorizer(transformer), None if weight is None else float(weight)))
    if actor_window is None or actor_width is None:
        raise ExportError("the paragraph stage has no actor block")
    width = sum(block.width if block is not None else actor_width for _, block, _ in blocks)
    columns = _Columns(width)
    node = _classifier_node(pipeline.named_steps["classifier"], columns)
    if [str(c) for c in pipeline.classes_] != node["classes"]:
        raise ExportError(f"pipeline classes {list(pipeline.classes_)} are not its classifier's {node['classes']}")
    context = None if context_classifier is None else _logistic_weights(context_classifier, "context stage")
    second_pass_classifier = getattr(model, "second_pass", None)
    second_pass = None
    if second_pass_classifier is not None:
        second_pass = _logistic_weights(second_pass_classifier, "context stage's second pass")
    exported = ExportedModel(
        version,
        blocks,
        actor_window,
        actor_width,
        np.column_stack(columns.weights),
        np.array(columns.intercepts),
        np.array(columns.slopes),
        np.array(columns.offsets),
        node,
        context,
        float(getattr(model, "topic_threshold", 0.5)),
        second_pass=second_pass,
        networks=columns.network_weights(),
    )
    check_export(exported, model)
    return exported


def _logistic_weights(classifier: Any, role: str) -> LogisticWeights:
    if type(classifier).__name__ != "LogisticRegression" or len(classifier.classes_) < 3:
        raise ExportError(f"the {role} is not a multinomial LogisticRegression")
    return (
        np.asarray(classifier.coef_, dtype=np.float64),
        np.asarray(classifier.intercept_, dtype=np.float64),
        [str(c) for c in classifier.classes_],
    )


def _softmax_probabilities(weights: LogisticWeights, features: NDArray[np.float64]) -> NDArray[np.float64]:
    """A multinomial logistic regression's probabilities (LABELS order), as its predict_proba computes them."""
    coef, intercept, classes = weights
    decision = features @ coef.T + intercept
    decision -= decision.max(axis=1, keepdims=True)
    exponentials = np.exp(decision)
    return in_label_order(exponentials / exponentials.sum(axis=1, keepdims=True), classes)


def check_export(exported: ExportedModel, model: Any) -> None:
    """ExportError unless the export labels probe articles as `model` does, to TOLERANCE."""
    articles = probe_articles(exported)
    if hasattr(model, "predict_articles"):
        expected = [result.probabilities for result in model.predict_articles(articles)]
        actual = [result.predictions.probabilities for result in exported.predict_articles(articles)]
    else:  # a bare pipeline: paragraphs alone
        texts = [text for article in articles for text in article.paragraphs]
        expected = [in_label_order(model.predict_proba(texts), [str(c) for c in model.classes_])]
        actual = [exported.predict(texts).probabilities]
    difference = max(float(np.max(np.abs(a - e), initial=0.0)) for a, e in zip(actual, expected, strict=True))
    if not difference <= TOLERANCE:
        raise ExportError(f"the export differs from the fitted model by {difference:.3g} on probe articles")


def probe_articles(exported: ExportedModel, count: int = 12, seed: int = 0) -> list[ArticleText]:
    """Articles of paragraphs drawn from the model's own word vocabulary (so every block has work), with
    actor names, quotations, accents and odd whitespace among them; deterministic for a seed."""
    rng = random.Random(seed)
    words = sorted({term for _, block, _ in exported.blocks if block is not None for term in block.terms})
    extras = [
        "Akar said", "according to Mikheev,", "U.S. officials warned", "“We will not”", "Erdoğan", "İstanbul",
        "Çavuşoğlu", "S-400", "he said.", "NATO", "\t", "\u00a0", "naïve", "ﬁ", "Ⅻ", "",
    ]  # fmt: skip
    articles = []
    for _ in range(count):
        paragraphs = [
            " ".join(rng.choice(words) if rng.random() < 0.8 else rng.choice(extras) for _ in range(rng.randint(0, 40)))
            for _ in range(rng.randint(1, 8))
        ]
        articles.append(ArticleText(paragraphs, title=" ".join(rng.choice(words) for _ in range(6))))
    return articles
