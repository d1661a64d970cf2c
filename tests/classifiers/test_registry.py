from __future__ import annotations

import json
import multiprocessing
import sys
import zlib
from pathlib import Path

import pytest

from wirestance.classifiers.dataset import LabeledDataError, load_labeled_data
from wirestance.classifiers.exported import EXPORT_FILE
from wirestance.classifiers.labels import LABELS
from wirestance.classifiers.model import split_for_evaluation, train_model
from wirestance.classifiers.predict import StanceModel
from wirestance.classifiers.registry import (
    CARD_FILE,
    CHAMPION_FILE,
    METADATA_FILE,
    MODEL_FILE,
    ModelIntegrityError,
    ModelRegistry,
    RegistryError,
    load_champion,
    load_pipeline,
)
from wirestance.settings import Settings


def register_one(registry: ModelRegistry, labeled_dir: Path, seed: int = 0) -> str:
    split = split_for_evaluation(load_labeled_data(labeled_dir), 0.25, seed=seed)
    trained = train_model(split, cv_folds=0)
    evaluation = StanceModel(trained.pipeline, "challenger").evaluate(split.evaluation)
    return registry.register(trained, evaluation).version


def test_register_writes_model_metadata_and_card(settings: Settings) -> None:
    registry = ModelRegistry(settings.models_dir)
    version = register_one(registry, Path(settings.labeled_dir))
    folder = Path(settings.models_dir) / version
    assert {p.name for p in folder.iterdir()} == {MODEL_FILE, EXPORT_FILE, METADATA_FILE, CARD_FILE}
    meta = json.loads((folder / METADATA_FILE).read_text())
    assert len(meta["export_sha256"]) == 64
    assert meta["version"] == version
    assert tuple(meta["labels"]) == LABELS
    assert len(meta["model_sha256"]) == 64 and len(meta["training_data_hash"]) == 64
    assert {"scikit-learn", "numpy", "python"} <= set(meta["library_versions"])
    assert meta["evaluation_split"]["hash"] and "macro_f1" in meta["metrics"]["evaluation"]
    card = (folder / CARD_FILE).read_text()
    assert "Confusion matrix" in card and "Top features per label" in card and "us_objection" in card
    # Registered is not promoted.
    assert registry.champion_version() is None
    registry.promote(version)
    assert (Path(settings.models_dir) / CHAMPION_FILE).read_text().strip() == version
    assert registry.load_champion().version == version


def test_tampered_model_file_is_refused(settings: Settings) -> None:
    registry = ModelRegistry(settings.models_dir)
    version = register_one(registry, Path(settings.labeled_dir))
    model_file = Path(settings.models_dir) / version / MODEL_FILE
    model_file.write_bytes(model_file.read_bytes() + b"\0")
    with pytest.raises(ModelIntegrityError, match="does not match"):
        registry.load(version)


def test_a_version_saved_by_other_code_is_refused_with_its_path_named(settings: Settings) -> None:
    """A model file that pickles a class this checkout lacks (saved by another branch or release)."""
    import hashlib
    import types

    import joblib

    registry = ModelRegistry(settings.models_dir)
    version = register_one(registry, Path(settings.labeled_dir))
    folder = Path(settings.models_dir) / version
    gone = types.ModuleType("wirestance_module_of_another_release")
    exec("class Network:\n    pass", gone.__dict__)
    gone.Network.__module__ = gone.__name__
    sys.modules[gone.__name__] = gone
    try:
        joblib.dump(gone.Network(), folder / MODEL_FILE)
    finally:
        del sys.modules[gone.__name__]
    meta = json.loads((folder / METADATA_FILE).read_text())
    meta["model_sha256"] = hashlib.sha256((folder / MODEL_FILE).read_bytes()).hexdigest()
    (folder / METADATA_FILE).write_text(json.dumps(meta))
    with pytest.raises(ModelIntegrityError, match=rf"{MODEL_FILE}: version {version} was saved by another version"):
        registry.load(version)


def test_unknown_version_and_stale_compare_and_swap(settings: Settings) -> None:
    registry = ModelRegistry(settings.models_dir)
    with pytest.raises(RegistryError):
        registry.load("no-such-version")
    first = register_one(registry, Path(settings.labeled_dir))
    # The same data, seed and split again is the same training run: no second version (issue 12 item 8).
    assert register_one(registry, Path(settings.labeled_dir)) == first and registry.versions() == [first]
    second = register_one(registry, Path(settings.labeled_dir), seed=1)
    assert first != second
    assert registry.replace_champion(first, expected=None)
    assert not registry.replace_champion(second, expected=None)  # someone promoted meanwhile
    assert registry.champion_version() == first
    assert registry.versions() == sorted([first, second])


def test_load_champion_trains_and_promotes_a_first_model(settings: Settings) -> None:
    model = load_champion(settings)
    registry = ModelRegistry(settings.models_dir)
    assert registry.champion_version() == model.version
    assert registry.versions() == [model.version]
    # Second call loads the same champion, no new version.
    assert load_champion(settings).version == model.version
    assert registry.versions() == [model.version]


def test_load_champion_without_data_fails_and_leaves_no_champion(tmp_path: Path) -> None:
    settings = Settings(models_dir=str(tmp_path / "models"), labeled_dir=str(tmp_path / "nothing"))
    with pytest.raises(LabeledDataError):
        load_champion(settings)
    assert ModelRegistry(settings.models_dir).champion_version() is None


def _load_version(models_dir: str, labeled_dir: str) -> str:
    return load_champion(Settings(models_dir=models_dir, labeled_dir=labeled_dir)).version


def test_concurrent_first_loads_train_one_champion(settings: Settings) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        versions = pool.starmap(_load_version, [(settings.models_dir, settings.labeled_dir)] * 2)
    assert versions[0] == versions[1]
    assert ModelRegistry(settings.models_dir).versions() == [versions[0]]


def test_a_model_saved_before_the_namespace_move_still_loads() -> None:
    """tests/fixtures/models/pre_namespace_pipeline.joblib was written when the package was `classifiers`
    (its pickle names `classifiers.features.ActorAttribution`)."""
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "pre_namespace_pipeline.joblib"
    pickled = zlib.decompressobj().decompress(fixture.read_bytes())  # joblib.dump(..., compress=3): zlib
    assert b"classifiers.features" in pickled and b"wirestance.classifiers" not in pickled
    pipeline = load_pipeline(fixture)
    assert pipeline.predict(["Peskov said the deliveries would go ahead as planned."])[0] in LABELS
    assert "classifiers" not in sys.modules


def test_promote_and_rollback_walk_the_champion_history(settings: Settings) -> None:
    registry = ModelRegistry(settings.models_dir)
    first = register_one(registry, Path(settings.labeled_dir))
    second = register_one(registry, Path(settings.labeled_dir), seed=1)
    with pytest.raises(RegistryError, match="no earlier champion"):
        registry.rollback()
    registry.promote(first)
    registry.promote(second)
    assert registry.history() == [first, second]
    assert registry.rollback() == first and registry.champion_version() == first
    with pytest.raises(RegistryError, match="no earlier champion"):
        registry.rollback()
    assert registry.champion_version() == first
    with pytest.raises(RegistryError):
        registry.promote("no-such-version")


def test_card_reports_real_copy_scores_with_interval_and_reliability(
    settings: Settings, tmp_path: Path, make_rows, rows_writer
) -> None:
    """The real-copy sets (data/eval and the dev set) are scored on every registration, articles whole."""
    seed_dir = Path(__file__).resolve().parents[2] / "data" / "eval"
    dev = rows_writer("dev/dev.jsonl", [{**row, "outlet": "Wire"} for row in make_rows()])
    registry = ModelRegistry(settings.models_dir, seed_dir, dev)
    version = register_one(registry, Path(settings.labeled_dir))
    external = registry.metadata(version).metrics["external"]
    assert set(external) == {"seed_aa_2019-11-26", "dev"}
    low, high = external["dev"]["macro_f1_interval"]
    assert 0.0 <= low <= external["dev"]["macro_f1"] <= high <= 1.0
    assert external["dev"]["per_outlet"]["Wire"][0] == 80 and external["dev"]["n_articles"] == 16
    card = registry.model_card(version)
    assert "## Real copy" in card and "95% article-bootstrap interval" in card
    assert "### Reliability on `dev` (expected calibration error" in card and "| confidence |" in card
