"""Who speaks in a paragraph, as a scikit-learn transformer for the paragraph-stage pipeline.

The labelling guide labels a paragraph by who speaks or acts, not by which country is named. Word n-grams
see "Turkey" in every paragraph; this transformer adds the signal "a Turkish official is the one saying
it" ("Akar said", "according to Mikheev", "U.S. officials argued"), which carries across outlets that
phrase the rest differently. The columns are computed in actors.py (plain Python, shared with the exported
model); models pickle this class under this module's name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from wirestance.classifiers.actors import ACTOR_FEATURE_NAMES, ACTOR_GROUPS, actor_features, normalize

__all__ = ["ACTOR_GROUPS", "ActorAttribution", "normalize"]


def _require_texts(texts: Any) -> None:
    """Like scikit-learn's text vectorizers: a bare string would be read as a sequence of characters."""
    if isinstance(texts, str | bytes):
        raise ValueError("ActorAttribution expects a sequence of texts; got a single string")
    for text in texts:
        if not isinstance(text, str):
            raise ValueError(f"ActorAttribution expects texts (str), got {type(text).__name__}")


class ActorAttribution(TransformerMixin, BaseEstimator):
    """Sparse features per paragraph: which actor groups are named, and which are the ones speaking.

    Columns (see get_feature_names_out): `speaks:<group>` when an attribution verb's nearest actor within
    `window` tokens belongs to the group ("according to" looks forward only); `speaks:pronoun` when that
    nearest speaker is "he"/"she", someone named earlier in the article; `named:<group>` when a named
    actor of the group appears at all; `quote` when the paragraph carries quoted speech.
    """

    def __init__(self, window: int = 12) -> None:
        self.window = window

    def fit(self, texts: Sequence[str], y: Any = None) -> ActorAttribution:
        # Parameters are checked here, not in __init__, as scikit-learn's set_params/clone expect.
        if isinstance(self.window, bool) or not isinstance(self.window, int | np.integer) or self.window < 1:
            raise ValueError(f"ActorAttribution: window must be a positive integer, got {self.window!r}")
        _require_texts(texts)
        # Nothing to learn from the data; fitting fixes the column layout the classifier is trained on.
        self.n_features_in_ = 1
        self.feature_names_ = np.array(ACTOR_FEATURE_NAMES, dtype=object)
        return self

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        check_is_fitted(self, "feature_names_")
        _require_texts(texts)
        # A model pickled before columns were added keeps its own (shorter) layout.
        width = len(self.feature_names_)
        rows = [self._features(text)[:width] for text in texts]
        return sp.csr_matrix(np.array(rows, dtype=np.float64).reshape(len(rows), width))

    def get_feature_names_out(self, input_features: Any = None) -> NDArray[np.object_]:
        return self.feature_names_.copy()

    def _features(self, text: str) -> list[float]:
        return actor_features(text, self.window)
