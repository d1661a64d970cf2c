from __future__ import annotations

from wirestance.classifiers.gate import decide_promotion
from wirestance.classifiers.labels import LABELS
from wirestance.classifiers.model import EvaluationReport, LabelScores


def report(**f1: float) -> EvaluationReport:
    scores = {label: LabelScores(f1.get(label, 0.8), f1.get(label, 0.8), f1.get(label, 0.8), 10) for label in LABELS}
    macro = sum(s.f1 for s in scores.values()) / len(scores)
    return EvaluationReport(macro, scores, tuple((0,) * 4 for _ in LABELS), 40)


def test_first_model_is_promoted() -> None:
    decision = decide_promotion(report(), None)
    assert decision.promote and "no champion" in decision.reason


def test_promotes_a_clear_gain() -> None:
    decision = decide_promotion(report(none=0.9), report())
    assert decision.promote
    assert decision.macro_f1_gain is not None and abs(decision.macro_f1_gain - 0.025) < 1e-9
    assert decision.reason.startswith("promoted")


def test_refuses_a_gain_below_the_minimum() -> None:
    decision = decide_promotion(report(none=0.81), report(), min_macro_f1_gain=0.005)
    assert not decision.promote and "below the required gain" in decision.reason


def test_gain_exactly_at_the_minimum_passes() -> None:
    assert decide_promotion(report(none=0.82), report(), min_macro_f1_gain=0.005).promote


def test_refuses_when_one_label_drops_too_much() -> None:
    decision = decide_promotion(report(none=1.0, us_objection=0.77), report(), max_label_f1_drop=0.02)
    assert not decision.promote
    assert "us_objection -0.0300" in decision.reason
    assert decision.label_f1_changes["none"] > 0


def test_a_drop_within_the_tolerance_is_allowed() -> None:
    assert decide_promotion(report(none=1.0, us_objection=0.785), report(), max_label_f1_drop=0.02).promote
