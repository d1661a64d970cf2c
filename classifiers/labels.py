"""The stance label set, in the order every probability column uses."""

from __future__ import annotations

from typing import Final

LABELS: Final = ("russian_supplier", "turkish_government", "us_objection", "none")

#: Position of each label in LABELS (and so in every probability row).
LABEL_INDEX: Final = {label: index for index, label in enumerate(LABELS)}
