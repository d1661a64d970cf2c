from __future__ import annotations

import numpy as np
import pytest

from wirestance.classifiers.labels import LABELS


def test_predictions_have_probabilities_in_label_order(stance_model) -> None:
    texts = [
        "Rostec chief Sergei Chemezov said the second regiment will be delivered next year.",
        "Foreign Minister Mevlut Cavusoglu said the purchase is a sovereign decision.",
        "Senator Lindsey Graham warned that CAATSA sanctions are mandatory.",
        "The batteries arrived at a base near the capital.",
    ]
    predictions = stance_model.predict(texts)
    assert stance_model.labels == LABELS
    assert predictions.probabilities.shape == (4, 4)
    np.testing.assert_allclose(predictions.probabilities.sum(axis=1), 1.0)
    assert predictions.labels == list(LABELS)
    best = predictions.probabilities.argmax(axis=1)
    np.testing.assert_array_equal(predictions.confidence, predictions.probabilities[np.arange(4), best])


def test_empty_input_and_a_bare_string(stance_model) -> None:
    assert stance_model.predict([]).probabilities.shape == (0, 4)
    with pytest.raises(TypeError):
        stance_model.predict("one paragraph")


def test_explain_lists_the_features_behind_the_label(stance_model) -> None:
    explanation = stance_model.explain("Kremlin spokesman Dmitry Peskov said the deliveries are complete.", top=5)
    assert explanation.label == "russian_supplier"
    assert len(explanation.features) == 5
    weights = [f.weight for f in explanation.features]
    assert all(w > 0 for w in weights) and weights == sorted(weights, reverse=True)
    assert {"word:kremlin", "word:peskov"} & {f.feature for f in explanation.features}
    assert abs(sum(explanation.probabilities.values()) - 1.0) < 1e-9
