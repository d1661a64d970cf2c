"""The stance label set, in the order every probability row and probability column uses.

It lives in the core because the lake's schema names a column per label; the classifiers import it from here.
"""

from __future__ import annotations

from typing import Final

STANCE_LABELS: Final = ("russian_supplier", "turkish_government", "us_objection", "none")

#: Position of each label in STANCE_LABELS (and so in every probability row).
LABEL_INDEX: Final = {label: index for index, label in enumerate(STANCE_LABELS)}

#: The lake's paragraph columns holding each label's probability, in label order.
PROBABILITY_COLUMNS: Final = tuple(f"p_{label}" for label in STANCE_LABELS)
