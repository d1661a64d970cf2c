"""A copy of a model registry, for test folders that start from the session's trained champion."""

from __future__ import annotations

import shutil
from pathlib import Path


def copy_registry(source: Path, target: Path) -> Path:
    """`target` as a registry of its own holding `source`'s versions and champion."""
    shutil.copytree(source, target, dirs_exist_ok=True)
    return target
