from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from wirestance.classifiers.registry import ModelRegistry
from wirestance.cli import main
from wirestance.settings import Settings

SEED_LABELS = Path(__file__).resolve().parents[2] / "data" / "eval" / "seed_aa_2019-11-26.jsonl"


def test_train_evaluate_classify_explain(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "--cv-folds", "3", "--eval-fraction", "0.25"]) == 0
    out = capsys.readouterr().out
    assert "grouped cross-validation (3 folds by article): macro-F1" in out
    assert "no champion yet" in out
    registry = ModelRegistry(settings.models_dir)
    champion = registry.champion_version()
    assert champion is not None and f"champion: {champion}" in out
    # The progress bar's last line, then the summary table saying where the model went.
    assert re.search(r"^train ━+ 4/4 steps, 100%, time left 0:00:00$", out, re.M), out
    assert re.search(rf"│ challenger +│ {champion} +│", out) and re.search(rf"│ champion +│ {champion} +│", out)
    assert re.search(rf"│ models registry +│ {re.escape(str(settings.models_dir))} +│", out), out

    # Same data, seed and split again (issue 12 item 8): nothing new is registered, nothing changes.
    assert main(["train", "--cv-folds", "0", "--eval-fraction", "0.25"]) == 0
    out = capsys.readouterr().out
    assert f"unchanged: version {champion} was trained on the same data" in out
    assert registry.champion_version() == champion and registry.versions() == [champion]

    assert main(["evaluate", "--data", str(SEED_LABELS)]) == 0
    out = capsys.readouterr().out
    assert f"model {champion} on {SEED_LABELS} (13 rows, 1 articles)" in out
    assert "macro-F1" in out and "95% interval" in out and "us_objection" in out
    assert "accuracy per outlet:" in out and "Anadolu Agency" in out
    assert "expected calibration error" in out

    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"text": "Pompeo said sanctions are coming."}) + "\n", encoding="utf-8")
    assert main(["classify", "--in", str(source), "--out", str(tmp_path / "out.jsonl")]) == 0
    assert json.loads((tmp_path / "out.jsonl").read_text())["model_version"] == champion
    assert "classified 1 paragraphs" in capsys.readouterr().out

    assert main(["explain", "Kremlin spokesman Dmitry Peskov said the deliveries are complete."]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1].strip()[0] == "+"
    assert "russian_supplier" in out.splitlines()[0]
    assert out.splitlines()[2] == "features pushing towards russian_supplier (weights of the linear members):"


def test_user_errors_exit_2_with_one_line(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "label": "maybe"}\n', encoding="utf-8")
    assert main(["train", "--data", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{bad} line 1: unknown label 'maybe'" in err
    assert ModelRegistry(settings.models_dir).champion_version() is None

    assert main(["classify", "--in", str(tmp_path / "absent.jsonl"), "--out", str(tmp_path / "o.jsonl")]) == 2
    assert "absent.jsonl" in capsys.readouterr().err
    assert not (tmp_path / "o.jsonl").exists()


def test_models_list_promote_rollback(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "list"]) == 0
    assert "no model versions" in capsys.readouterr().out
    assert main(["train", "--cv-folds", "0", "--eval-fraction", "0.25", "--seed", "0"]) == 0
    assert main(["train", "--cv-folds", "0", "--eval-fraction", "0.25", "--seed", "1"]) == 0
    capsys.readouterr()
    registry = ModelRegistry(settings.models_dir)
    first, second = registry.versions()
    champion = registry.champion_version()
    other = second if champion == first else first

    assert main(["models", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line[2:].split()[0] for line in listed] == [first, second]
    assert [line.startswith("*") for line in listed] == [v == champion for v in (first, second)]
    assert all("held-out" in line for line in listed)

    assert main(["models", "promote", other]) == 0
    assert registry.champion_version() == other
    assert main(["models", "rollback"]) == 0
    assert f"rolled back to {champion}" in capsys.readouterr().out
    assert registry.champion_version() == champion
    assert main(["models", "promote", "no-such-version"]) == 2
    assert "no model version 'no-such-version'" in capsys.readouterr().err

    # The champion against the other version on the same rows: the difference and its paired interval.
    assert main(["evaluate", "--data", str(SEED_LABELS), "--against", other]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"model {champion} on {SEED_LABELS} (13 rows, 1 articles)")
    assert re.search(
        rf"^{champion} against {other} on {re.escape(str(SEED_LABELS))}: macro-F1 \d\.\d{{4}} vs \d\.\d{{4}}, "
        r"difference [+-]\d\.\d{4} \(paired 95% interval [+-]\d\.\d{4} to [+-]\d\.\d{4} over 1 articles\)",
        out,
        re.M,
    ), out
    assert re.search(r"^  of 13 paragraphs \d+ fixed, \d+ broken; F1 per label: russian_supplier [+-]", out, re.M), out
    assert main(["evaluate", "--data", str(SEED_LABELS), "--against", "no-such-version"]) == 2
    assert "no model version 'no-such-version'" in capsys.readouterr().err
