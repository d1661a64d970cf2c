"""The stance label set: defined once in the core (wirestance.labels), which the lake's schema also uses."""

from __future__ import annotations

from wirestance.labels import LABEL_INDEX
from wirestance.labels import STANCE_LABELS as LABELS

__all__ = ["LABELS", "LABEL_INDEX"]
