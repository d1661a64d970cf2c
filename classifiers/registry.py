"""The model registry: one folder per version, a `champion` pointer, integrity checks on load.

Layout under Settings().models_dir:

    <version>/model.joblib     the fitted pipeline
    <version>/model.npz        its export: plain arrays, labels without scikit-learn (exported.py)
    <version>/metadata.json    version, created, data hash, labels, metrics, library versions, SHA-256
    <version>/MODEL_CARD.md    metrics, confusion matrix, top features per label
    champion                   the champion's version, one line
    .lock                      held while promoting or training the first champion

Versions appear by renaming a finished temporary folder, and the pointer by os.replace, so a reader never
sees half a version or half a pointer. joblib files are unpickled only after their SHA-256 matches the
metadata: a replaced or corrupted file is refused, never executed.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import platform
import shutil
import sys
import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any, Protocol

import joblib
import numpy as np
from numpy.typing import NDArray

from wirestance.classifiers.champion import CHAMPION_FILE, EmptyChampionFileError, read_champion
from wirestance.classifiers.dataset import LabeledDataset, load_labeled_data
from wirestance.classifiers.evaluation import RealCopyReport, real_copy_report
from wirestance.classifiers.exported import EXPORT_FILE, ExportError, export_model, file_sha256
from wirestance.classifiers.labels import LABELS
from wirestance.classifiers.model import (
    DEFAULT_EVAL_FRACTION,
    DEFAULT_SEED,
    EvaluationReport,
    TrainedModel,
    split_for_evaluation,
    top_features,
    train_model,
)
from wirestance.classifiers.predict import StanceModel

MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"
CARD_FILE = "MODEL_CARD.md"
#: Every champion in promotion order (JSON list); `rollback` steps back along it.
HISTORY_FILE = "champion_history.json"
#: Bump when the model's construction changes, so the same data trained by new code is a new version.
MODEL_FORMAT = "article-context-4"
LOCK_FILE = ".lock"
_LIBRARIES = ("scikit-learn", "numpy", "scipy", "joblib", "wirestance")


class ModelIntegrityError(RuntimeError):
    """A model file does not match the SHA-256 its metadata recorded (or its metadata is unusable)."""


class RegistryError(LookupError):
    """No such version, or no champion."""


@dataclass(frozen=True)
class ModelMetadata:
    version: str
    created: str
    training_data_hash: str
    training_rows: int
    labels: tuple[str, ...]
    seed: int
    #: {"evaluation": EvaluationReport.to_dict(), "cross_validation": CrossValidationReport.to_dict() | None}
    metrics: Mapping[str, Any]
    #: The frozen evaluation split the metrics were measured on (hash, fraction, seed, row counts).
    evaluation_split: Mapping[str, Any]
    library_versions: Mapping[str, str]
    model_sha256: str
    #: Hash of (training data, seed, evaluation split, model format): the same fingerprint is the same
    #: training run, which registers no second version. "" for versions registered before it existed.
    training_fingerprint: str = ""
    #: SHA-256 of the export (EXPORT_FILE); "" when there is none, `export_note` then says why.
    export_sha256: str = ""
    export_note: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ModelMetadata:
        data = json.loads(text)
        data["labels"] = tuple(data["labels"])
        return cls(**data)

    @property
    def evaluation(self) -> EvaluationReport:
        return EvaluationReport.from_dict(self.metrics["evaluation"])


class ModelPaths(Protocol):
    """Where the registry, its training data and its real-copy evaluation data live (wirestance.settings.Settings
    provides them; the classifiers layer reads no settings of its own)."""

    models_dir: str
    labeled_dir: str
    eval_dir: str
    dev_set: str


class ModelRegistry:
    def __init__(
        self,
        root: str | os.PathLike[str],
        eval_dir: str | os.PathLike[str] | None = None,
        dev_set: str | os.PathLike[str] | None = None,
    ) -> None:
        self.root = Path(root)
        #: Labelled real articles scored on every registration (never trained on); None: no such checks.
        self.eval_dir = Path(eval_dir) if eval_dir is not None else None
        #: The real-copy development set (JSONL) scored on every registration; None or "": none.
        self.dev_set = Path(dev_set) if dev_set else None

    @classmethod
    def from_settings(cls, paths: ModelPaths) -> ModelRegistry:
        return cls(paths.models_dir, paths.eval_dir, getattr(paths, "dev_set", None) or None)

    # --- reading ---

    def versions(self) -> list[str]:
        """Registered versions, oldest first (version names start with their UTC creation time)."""
        if not self.root.is_dir():
            return []
        # Hidden names are versions still being written (".staging-*").
        return sorted(
            p.name for p in self.root.iterdir() if not p.name.startswith(".") and (p / METADATA_FILE).is_file()
        )

    def metadata(self, version: str) -> ModelMetadata:
        path = self._version_dir(version) / METADATA_FILE
        try:
            return ModelMetadata.from_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RegistryError(f"no model version {version!r} in {self.root}") from None
        except (ValueError, TypeError, KeyError) as exc:
            raise ModelIntegrityError(f"{path}: unreadable metadata ({exc})") from exc

    def load(self, version: str) -> StanceModel:
        """Load a version after checking its file against the SHA-256 in its metadata."""
        meta = self.metadata(version)
        model_path = self._version_dir(version) / MODEL_FILE
        try:
            actual = file_sha256(model_path)
        except FileNotFoundError:
            raise ModelIntegrityError(f"{model_path}: model file is missing") from None
        if actual != meta.model_sha256:
            raise ModelIntegrityError(
                f"{model_path}: SHA-256 {actual} does not match {meta.model_sha256} recorded in "
                f"{METADATA_FILE}; refusing to load a modified model file"
            )
        if tuple(meta.labels) != LABELS:
            raise ModelIntegrityError(f"{model_path}: trained for labels {meta.labels}, expected {LABELS}")
        try:
            pipeline = load_pipeline(model_path)
        except (AttributeError, ImportError) as error:
            # A version registered by code that had a class this checkout has not (another branch, a newer
            # release): unpickling cannot build it. Named as such, not as a traceback from inside pickle.
            raise ModelIntegrityError(
                f"{model_path}: version {version} was saved by another version of wirestance and needs a class "
                f"this code does not have ({error}); promote or roll back to another version"
            ) from error
        return StanceModel(pipeline, version)

    def champion_version(self) -> str | None:
        """The champion's version; None when no champion was ever promoted (no `champion` file). An empty
        or blank file is an error, never "no champion": that would train and promote a new model silently."""
        try:
            return read_champion(self.root)
        except EmptyChampionFileError as error:
            raise RegistryError(str(error)) from None

    def load_champion(self) -> StanceModel:
        version = self.champion_version()
        if version is None:
            raise RegistryError(f"no champion in {self.root}")
        return self.load(version)

    def model_card(self, version: str) -> str:
        return (self._version_dir(version) / CARD_FILE).read_text(encoding="utf-8")

    # --- writing ---

    def find_fingerprint(self, fingerprint: str) -> ModelMetadata | None:
        """The version trained from exactly this data, seed, split and model format, if any."""
        for version in reversed(self.versions()):
            try:
                meta = self.metadata(version)
            except ModelIntegrityError:
                continue
            if meta.training_fingerprint == fingerprint:
                return meta
        return None

    def history(self) -> list[str]:
        try:
            return [str(v) for v in json.loads((self.root / HISTORY_FILE).read_text(encoding="utf-8"))]
        except FileNotFoundError:
            return []

    def register(self, trained: TrainedModel, evaluation: EvaluationReport) -> ModelMetadata:
        """Store a trained model as a new version (not promoted). Training the same data with the same seed,
        split and model format again registers nothing: the earlier version is returned."""
        fingerprint = training_fingerprint(trained)
        existing = self.find_fingerprint(fingerprint)
        if existing is not None:
            return existing
        self.root.mkdir(parents=True, exist_ok=True)
        created = datetime.now(UTC)
        # Not mkdtemp: its 0700 mode would survive the rename and hide the version from other users.
        staging = self.root / f".staging-{uuid.uuid4().hex}"
        staging.mkdir()
        try:
            model_path = staging / MODEL_FILE
            joblib.dump(trained.pipeline, model_path)
            model_sha256 = file_sha256(model_path)
            export_sha256, export_note = _write_export(trained.pipeline, staging / EXPORT_FILE)
            metrics = {
                "evaluation": evaluation.to_dict(),
                "cross_validation": trained.cross_validation.to_dict() if trained.cross_validation else None,
                "external": {
                    name: report.to_dict()
                    for name, report in external_evaluations(trained.pipeline, self.eval_dir, self.dev_set).items()
                },
            }
            base_version = f"{created:%Y%m%dT%H%M%S}Z-{model_sha256[:8]}"
            meta = ModelMetadata(
                version=base_version,
                created=created.isoformat(),
                training_data_hash=trained.training_data_hash,
                training_rows=trained.training_rows,
                labels=LABELS,
                seed=trained.seed,
                metrics=metrics,
                evaluation_split=dict(trained.split),
                library_versions=_library_versions(),
                model_sha256=model_sha256,
                training_fingerprint=fingerprint,
                export_sha256=export_sha256,
                export_note=export_note,
            )
            return self._publish(staging, meta, trained)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _publish(self, staging: Path, meta: ModelMetadata, trained: TrainedModel) -> ModelMetadata:
        for attempt in range(100):
            version = meta.version if attempt == 0 else f"{meta.version}-{attempt + 1}"
            final = replace(meta, version=version)
            (staging / METADATA_FILE).write_text(final.to_json(), encoding="utf-8")
            (staging / CARD_FILE).write_text(render_model_card(final, trained), encoding="utf-8")
            try:
                # rename() of a directory fails when the target exists: two writers cannot share a version.
                staging.rename(self.root / version)
            except OSError:
                if (self.root / version).exists():
                    continue
                raise
            return final
        raise RegistryError(f"could not find a free version name for {meta.version} in {self.root}")

    def promote(self, version: str) -> None:
        """Point `champion` at `version`."""
        self.metadata(version)  # refuses unknown versions
        with self.lock():
            self._write_champion(version)

    def replace_champion(self, version: str, *, expected: str | None) -> bool:
        """Promote `version` only if the champion is still `expected` (None: still no champion).

        A challenger judged against one champion must not silently replace another one that a
        concurrent run promoted meanwhile; returns False and changes nothing in that case.
        """
        self.metadata(version)
        with self.lock():
            if self.champion_version() != expected:
                return False
            self._write_champion(version)
            return True

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """An exclusive lock across processes (flock on a local file); not re-entrant."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK_FILE, "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def rollback(self) -> str:
        """Point `champion` back at the champion before the current one; returns it."""
        with self.lock():
            history = self.history()
            current = self.champion_version()
            while history and history[-1] == current:
                history.pop()
            if not history:
                raise RegistryError(f"no earlier champion to roll back to in {self.root}")
            previous = history[-1]
            self.metadata(previous)
            self._write_atomically(HISTORY_FILE, json.dumps(history) + "\n")
            self._write_atomically(CHAMPION_FILE, previous + "\n")
            return previous

    def _write_champion(self, version: str) -> None:
        """Callers hold the lock."""
        history = self.history()
        if not history or history[-1] != version:
            history.append(version)
        self._write_atomically(HISTORY_FILE, json.dumps(history) + "\n")
        self._write_atomically(CHAMPION_FILE, version + "\n")

    def _write_atomically(self, name: str, text: str) -> None:
        temporary = self.root / f".{name}.{uuid.uuid4().hex}"
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, self.root / name)

    def _version_dir(self, version: str) -> Path:
        if not version or "/" in version or version.startswith("."):
            raise RegistryError(f"invalid model version {version!r}")
        return self.root / version


def load_champion(paths: ModelPaths) -> StanceModel:
    """The champion model; with no champion yet, train one from paths.labeled_dir and promote it.

    Training the first champion holds the registry lock, so concurrent callers train it once and the
    others load what the first one promoted.
    """
    registry = ModelRegistry.from_settings(paths)
    if registry.champion_version() is None:
        with registry.lock():
            if registry.champion_version() is None:
                meta = train_first_champion(registry, paths.labeled_dir)
                registry._write_champion(meta.version)
    return registry.load_champion()


def train_first_champion(
    registry: ModelRegistry,
    data_path: str | os.PathLike[str],
    *,
    eval_fraction: float = DEFAULT_EVAL_FRACTION,
    seed: int = DEFAULT_SEED,
) -> ModelMetadata:
    """Train and register (not promote) a model from `data_path` with the default split.

    No cross-validation: the first champion is needed by whatever asked for a prediction, and waits for it
    (~50 s on data/labeled; `wirestance train`, with its 5-fold cross-validation, takes ~3.5 min).
    """
    split = split_for_evaluation(load_labeled_data(data_path), eval_fraction, seed)
    trained = train_model(split, cv_folds=0)
    evaluation = StanceModel(trained.pipeline, "challenger").evaluate(split.evaluation)
    return registry.register(trained, evaluation)


def training_fingerprint(trained: TrainedModel) -> str:
    split_hash = str(trained.split.get("hash", ""))
    payload = (
        f"{trained.training_data_hash}\0{trained.seed}\0{split_hash}\0{trained.split.get('fraction')}\0{MODEL_FORMAT}"
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class RealCopyPredictions:
    """One labelled set of real copy and a model's probabilities for its rows (columns in LABELS order)."""

    name: str
    dataset: LabeledDataset
    probabilities: NDArray[np.float64]


def external_predictions(
    pipeline: Any, eval_dir: Path | None, dev_set: Path | None = None
) -> dict[str, RealCopyPredictions]:
    """A model's probabilities on labelled paragraphs of real articles (`eval_dir/*.jsonl` and the dev set),
    never trained on, by set name ("dev" for the dev set, else the file's stem); articles are labelled whole."""
    sources = sorted(eval_dir.glob("*.jsonl")) if eval_dir is not None and eval_dir.is_dir() else []
    if dev_set is not None and dev_set.is_file():
        sources.append(dev_set)
    model = StanceModel(pipeline, "candidate")
    predictions = {}
    for path in sources:
        dataset = load_labeled_data(path)
        name = "dev" if path == dev_set else path.stem
        predictions[name] = RealCopyPredictions(name, dataset, model.predict_dataset(dataset).probabilities)
    return predictions


def external_evaluations(
    pipeline: Any, eval_dir: Path | None, dev_set: Path | None = None
) -> dict[str, RealCopyReport]:
    """Scores on labelled paragraphs of real articles (see external_predictions)."""
    return {
        name: real_copy_report(name, found.dataset, found.probabilities)
        for name, found in external_predictions(pipeline, eval_dir, dev_set).items()
    }


def render_model_card(meta: ModelMetadata, trained: TrainedModel) -> str:
    evaluation = meta.evaluation
    split = meta.evaluation_split
    lines = [
        f"# Stance model {meta.version}",
        "",
        f"- created: {meta.created}",
        f"- training rows: {meta.training_rows} (data hash `{meta.training_data_hash[:16]}`)",
        f"- evaluation split: {split['evaluation_rows']} rows, fraction {split['fraction']}, "
        f"seed {split['seed']}, hash `{str(split['hash'])[:16]}`",
        f"- model file SHA-256: `{meta.model_sha256}`",
        f"- export (labels without scikit-learn): `{EXPORT_FILE}`, SHA-256 `{meta.export_sha256}`"
        if meta.export_sha256
        else f"- export: none ({meta.export_note or 'registered before exports'})",
        f"- libraries: {', '.join(f'{k} {v}' for k, v in sorted(meta.library_versions.items()))}",
        "",
        "## Held-out evaluation (whole articles)",
        "",
        f"macro-F1: **{evaluation.macro_f1:.4f}** on {evaluation.n_rows} paragraphs",
        "",
        *scores_table(evaluation),
        "",
        "Confusion matrix (rows: gold, columns: predicted):",
        "",
        *confusion_table(evaluation),
    ]
    cv = meta.metrics.get("cross_validation")
    if cv:
        per_label = ", ".join(f"{label} {f1:.4f}" for label, f1 in cv["per_label_f1"].items())
        lines += [
            "",
            f"## Grouped cross-validation ({cv['n_splits']} folds by article, training part)",
            "",
            f"macro-F1 {cv['macro_f1']:.4f}; per label: {per_label}",
        ]
    external = meta.metrics.get("external") or {}
    if external:
        lines += [
            "",
            "## Real copy (labelled real articles, labelled whole, never trained on)",
            "",
        ]
        if cv:
            lines += [f"Grouped cross-validation on our own data says macro-F1 {cv['macro_f1']:.4f}; real copy:", ""]
        for name, data in external.items():
            report = RealCopyReport.from_dict(name, data)
            per_label = ", ".join(f"{label} {s.f1:.4f}" for label, s in report.scores.per_label.items())
            low, high = report.macro_f1_interval
            lines.append(
                f"- `{name}`: macro-F1 **{report.macro_f1:.4f}** (95% article-bootstrap interval {low:.4f}-{high:.4f}) "
                f"on {report.scores.n_rows} paragraphs of {report.n_articles} article(s); F1 per label: {per_label}"
            )
        for name, data in external.items():
            report = RealCopyReport.from_dict(name, data)
            if report.scores.n_rows < 50:
                continue
            lines += [
                "",
                f"### Reliability on `{name}` (expected calibration error {report.expected_calibration_error:.4f})",
                "",
                "| confidence | paragraphs | mean confidence | accuracy |",
                "|---|---|---|---|",
                *(
                    f"| {b.low:.2f}-{b.high:.2f} | {b.count} | {b.mean_confidence:.3f} | {b.accuracy:.3f} |"
                    for b in report.reliability
                ),
                "",
                "Confusion matrix (rows: gold, columns: predicted):",
                "",
                *confusion_table(report.scores),
                "",
                "Accuracy per outlet: " + ", ".join(f"{o} {hits}/{n}" for o, (n, hits) in report.per_outlet.items()),
            ]
    lines += ["", "## Top features per label", ""]
    for label, features in top_features(trained.pipeline).items():
        listed = ", ".join(f"`{name}` {weight:.3f}" for name, weight in features)
        lines.append(f"- **{label}**: {listed}")
    return "\n".join(lines) + "\n"


def scores_table(report: EvaluationReport) -> list[str]:
    rows = ["| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for label, s in report.per_label.items():
        rows.append(f"| {label} | {s.precision:.4f} | {s.recall:.4f} | {s.f1:.4f} | {s.support} |")
    return rows


def confusion_table(report: EvaluationReport) -> list[str]:
    rows = ["| gold \\ predicted | " + " | ".join(LABELS) + " |", "|---" * (len(LABELS) + 1) + "|"]
    for label, counts in zip(LABELS, report.confusion, strict=True):
        rows.append(f"| {label} | " + " | ".join(str(c) for c in counts) + " |")
    return rows


def _library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = package_metadata.version(name)
        except package_metadata.PackageNotFoundError:
            versions[name] = "unknown"
    return versions


_OLD_NAMESPACE_LOCK = threading.Lock()


def load_pipeline(path: Path) -> Any:
    """Unpickle a model file written by joblib.dump. Only call it on a file whose SHA-256 was checked:
    unpickling runs code.

    Models saved before flows/, classifiers/ and deployments/ moved under the `wirestance.` namespace name
    their classes `classifiers.features.ActorAttribution`: while loading, those names point at the
    `wirestance.classifiers` modules (and back to whatever they were afterwards), so old models still load
    and no other installed `classifiers` package is ever consulted.
    """
    aliases = {
        name.removeprefix("wirestance."): module
        for name, module in list(sys.modules.items())
        if name == "wirestance.classifiers" or name.startswith("wirestance.classifiers.")
    }
    with _OLD_NAMESPACE_LOCK:
        saved = {name: sys.modules.get(name) for name in aliases}
        sys.modules.update(aliases)
        try:
            return joblib.load(path)
        finally:
            for name, module in saved.items():
                if module is None:
                    sys.modules.pop(name, None)
                else:
                    sys.modules[name] = module


def _write_export(model: Any, path: Path) -> tuple[str, str]:
    """Write the model's export (checked against the model, see exported.py): (its SHA-256, ""), or ("",
    why not) for a model holding a part the export does not cover; that model loads through joblib."""
    try:
        exported = export_model(model, path.parent.name)
    except (ExportError, AttributeError, KeyError, TypeError, IndexError) as error:
        # A model of another shape than the export reads (a part it does not cover, or a fitted attribute
        # it does not find) is still registered: it loads through joblib, and the metadata says why.
        return "", f"not exported: {type(error).__name__}: {error}"
    exported.save(path)
    return file_sha256(path), ""
