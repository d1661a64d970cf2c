"""The paragraph stage's network member keeps what predicting needs and nothing else (ensemble.py)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.neural_network import MLPClassifier

from wirestance.classifiers.ensemble import EpochCappedNetwork

PARAMETERS = dict(hidden_layer_sizes=(8,), alpha=1e-3, batch_size=50, learning_rate_init=0.01, max_iter=5)


def _problem() -> tuple[sp.csr_matrix, np.ndarray]:
    rng = np.random.default_rng(0)
    features = sp.random(300, 400, density=0.05, format="csr", random_state=1)
    labels = np.array(["russian_supplier", "turkish_government", "us_objection", "none"])[rng.integers(0, 4, 300)]
    return features, labels


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # the unstripped reference
def test_a_fitted_network_holds_single_precision_weights_and_no_training_state() -> None:
    features, labels = _problem()
    network = EpochCappedNetwork(**PARAMETERS, random_state=0).fit(features, labels)

    assert all(weights.dtype == np.float32 for weights in network.coefs_ + network.intercepts_)
    for training_state in ("_optimizer", "_best_coefs", "_best_intercepts"):
        assert not hasattr(network, training_state), training_state
    probabilities = network.predict_proba(features)  # float64 features on float32 weights
    assert probabilities.dtype == np.float64
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)

    # The same network as scikit-learn trains it, on the same single-precision input, before the strip:
    # identical weights, and about four times the pickle (the best-weights copy and Adam's two moment
    # estimates; three times with the pickle's fixed overhead on a network this small).
    reference = MLPClassifier(**PARAMETERS, random_state=0).fit(features.astype(np.float32), labels)
    for ours, theirs in zip(network.coefs_, reference.coefs_, strict=True):
        np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(probabilities, reference.predict_proba(features))
    assert len(pickle.dumps(reference)) > 2.5 * len(pickle.dumps(network))
