"""A job for a reprocess worker (wirestance.workers.WorkerPool) that reports what the worker has imported.

Kept apart from the test modules: a worker that unpickles a job imports the job's module, and a test
module's own imports (scikit-learn among them) would be counted as the worker's."""

from __future__ import annotations

import sys
from typing import Any

#: Libraries a reprocess worker does without: the parent owns the lake (deltalake, pyarrow.dataset and
#: the pandas it brings); the model is the registry's export (no scikit-learn, SciPy's stats or pandas).
HEAVY = ("sklearn", "pandas", "deltalake", "pyarrow.dataset", "scipy.stats", "prefect")


def heavy_modules(state: Any, job: Any) -> list[str]:
    return [name for name in HEAVY if name in sys.modules]
