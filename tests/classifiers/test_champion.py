"""The champion named without loading it: read from the registry's champion file, loaded (checked like
ModelRegistry.load) only where it is called, and without scikit-learn in the process that names it."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from wirestance.classifiers.champion import CHAMPION_FILE, EmptyChampionFileError, RegisteredVersion, read_champion
from wirestance.classifiers.registry import ModelRegistry, RegistryError, load_champion
from wirestance.settings import Settings

TEXTS = ["Ankara said the S-400 deal stands.", "Washington objected to the purchase.", "Moscow delivered."]


def test_a_registered_version_loads_in_another_process_as_the_registry_loads_it(settings: Settings):
    champion = load_champion(settings)
    reference = ModelRegistry(settings.models_dir).load(champion.version)
    named = pickle.loads(pickle.dumps(RegisteredVersion(settings.models_dir, champion.version)))

    loaded = named()

    # The version's export (plain arrays; tests/classifiers/test_exported.py): the same labels and
    # probabilities, to the last few bits of a float (its sums run in another order).
    assert type(loaded).__name__ == "ExportedModel"
    assert loaded.version == champion.version
    assert loaded.predict(TEXTS).labels == reference.predict(TEXTS).labels
    np.testing.assert_allclose(
        loaded.predict(TEXTS).probabilities, reference.predict(TEXTS).probabilities, rtol=0, atol=1e-12
    )


def test_the_champion_file_names_the_version_or_nothing(tmp_path: Path):
    assert read_champion(tmp_path) is None
    (tmp_path / CHAMPION_FILE).write_text("20261206T000000Z-abc\n", encoding="utf-8")
    assert read_champion(tmp_path) == "20261206T000000Z-abc"
    (tmp_path / CHAMPION_FILE).write_text(" \n", encoding="utf-8")
    with pytest.raises(EmptyChampionFileError):
        read_champion(tmp_path)
    with pytest.raises(RegistryError, match="is empty"):
        ModelRegistry(tmp_path).champion_version()


def test_the_reprocess_names_the_champion_without_importing_scikit_learn(tmp_path: Path):
    (tmp_path / CHAMPION_FILE).write_text("20261206T000000Z-abc\n", encoding="utf-8")
    script = (
        "import pickle, sys\n"
        "from wirestance.flows.reprocess import champion_ref\n"
        "from wirestance.settings import Settings\n"
        "ref = champion_ref(Settings.from_env())\n"
        "pickle.dumps(ref)\n"
        "print(ref.version, sorted(m for m in ('sklearn', 'scipy') if m in sys.modules))\n"
    )
    env = {**os.environ, "WIRESTANCE_MODELS_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[-2] == "20261206T000000Z-abc []"
