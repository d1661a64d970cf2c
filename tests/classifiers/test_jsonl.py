from __future__ import annotations

import json
from pathlib import Path

import pytest

from wirestance.classifiers.jsonl import JsonlInputError, classify_jsonl
from wirestance.classifiers.labels import LABELS


def test_output_keeps_input_fields_and_order(stance_model, tmp_path: Path) -> None:
    inputs = [
        {"id": 1, "text": "Senator Lindsey Graham said CAATSA sanctions are mandatory.", "source": "x"},
        {"id": 2, "text": "Alexander Mikheev said the delivery is complete."},
        {"id": 3, "text": "Ismail Demir said the purchase is a sovereign decision.", "extra": {"a": [1]}},
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(row) for row in inputs) + "\n\n", encoding="utf-8")
    target = tmp_path / "out.jsonl"

    assert classify_jsonl(source, target, stance_model, batch_size=2) == 3

    outputs = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [row["id"] for row in outputs] == [1, 2, 3]
    assert outputs[0]["source"] == "x" and outputs[2]["extra"] == {"a": [1]}
    for row in outputs:
        assert row["predicted_label"] in LABELS
        assert list(row["probabilities"]) == list(LABELS)
        assert row["confidence"] == max(row["probabilities"].values())
        assert row["model_version"] == "test-model"
    assert [row["predicted_label"] for row in outputs] == ["us_objection", "russian_supplier", "turkish_government"]
    assert not list(tmp_path.glob(".out.jsonl.*"))


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("{not json", "line 3: not valid JSON"),
        ('["a list"]', "line 3: expected a JSON object"),
        ('{"text": 5}', 'line 3: no string "text" field'),
        ('{"title": "no text"}', 'line 3: no string "text" field'),
    ],
)
def test_a_bad_line_names_its_number_and_nothing_is_written(
    stance_model, tmp_path: Path, bad_line: str, message: str
) -> None:
    source = tmp_path / "in.jsonl"
    lines = [json.dumps({"text": f"Paragraph {i}."}) for i in range(2)] + [bad_line, json.dumps({"text": "ok"})]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    target = tmp_path / "out.jsonl"
    with pytest.raises(JsonlInputError, match=message) as caught:
        classify_jsonl(source, target, stance_model, batch_size=1)  # batch 1: rows before it were processed
    assert caught.value.line_number == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]
