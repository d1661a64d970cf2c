"""The registry's champion named without loading it, and without importing scikit-learn.

A process that only hands the model to worker processes (the reprocess's: wirestance.workers.ModelRef)
needs the champion's version and a picklable way to load it, nothing more; importing the registry module
(and with it scikit-learn, SciPy and pandas) made that process ~80 MB larger (measured 2026-12-06). The
process that labels loads the version's export (exported.py) when it has one, so it imports no
scikit-learn either; the registry only for a version registered without an export.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wirestance.classifiers.exported import ExportedModel
    from wirestance.classifiers.predict import StanceModel

#: The file of a registry's root that names its champion version.
CHAMPION_FILE = "champion"


class EmptyChampionFileError(LookupError):
    """The champion file exists but names no version."""


def read_champion(root: str | os.PathLike[str]) -> str | None:
    """The champion's version; None when no champion was ever promoted (no `champion` file). An empty
    or blank file is an error, never "no champion": that would train and promote a new model silently."""
    path = Path(root) / CHAMPION_FILE
    try:
        version = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if not version:
        raise EmptyChampionFileError(
            f"{path} is empty: write a version's folder name into it, or delete it to train a first champion"
        )
    return version


@dataclass(frozen=True)
class RegisteredVersion:
    """Loads one registered version (checked against its recorded SHA-256, like ModelRegistry.load) when
    called; picklable, so a worker process can be told which model to load and load it itself.

    The version's export (exported.py: plain arrays, the same probabilities) when it has one: the calling
    process then never imports scikit-learn; else the fitted model through the registry."""

    models_dir: str
    version: str

    def __call__(self) -> StanceModel | ExportedModel:
        from wirestance.classifiers.exported import load_export

        exported = load_export(self.models_dir, self.version)
        if exported is not None:
            return exported
        from wirestance.classifiers.registry import ModelRegistry

        return ModelRegistry(self.models_dir).load(self.version)
