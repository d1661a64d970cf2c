"""Classify a JSONL file: one object with a string `text` per line in, the same objects plus the
prediction out, in input order.

Output goes to a temporary file next to the target and is renamed into place only when every line
classified: a bad line fails the whole run and leaves no output file behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from wirestance.classifiers.predict import StanceModel
from wirestance.durable import is_temporary_name

DEFAULT_BATCH_SIZE = 2000


class JsonlInputError(ValueError):
    """A line of the input is not a JSON object with a string `text`."""

    def __init__(self, path: str, line_number: int, problem: str) -> None:
        self.path = path
        self.line_number = line_number
        super().__init__(f"{path} line {line_number}: {problem}")


def classify_jsonl(
    in_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    model: StanceModel,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> int:
    """Write each input object with `label`, `confidence`, `probabilities` (label -> probability) and
    `model_version` added (these keys overwrite input fields of the same name). Returns the number of
    objects written. Blank lines are skipped."""
    out = Path(out_path)
    _remove_abandoned_outputs(out)
    # Not mkstemp: its 0600 mode would survive the rename; "x" creates with the usual umask.
    temporary = out.parent / f".{out.name}.{uuid.uuid4().hex}.tmp"
    written = 0
    try:
        with open(temporary, "x", encoding="utf-8") as handle:
            # Held until the rename: tells a later run that this temporary file's writer is alive.
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            for batch in _batches(_read_objects(os.fspath(in_path)), batch_size):
                predictions = model.predict([obj["text"] for obj in batch])
                for position, obj in enumerate(batch):
                    obj["label"] = predictions.labels[position]
                    obj["confidence"] = round(float(predictions.confidence[position]), 6)
                    obj["probabilities"] = {
                        label: round(float(p), 6)
                        for label, p in zip(model.labels, predictions.probabilities[position], strict=True)
                    }
                    obj["model_version"] = model.version
                    handle.write(json.dumps(obj, ensure_ascii=False) + "\n")
                written += len(batch)
        os.replace(temporary, out)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return written


def _remove_abandoned_outputs(out: Path) -> None:
    """Temporary outputs of runs killed before their rename (no writer holds their lock any more)."""
    for candidate in out.parent.glob(f".{glob.escape(out.name)}.*.tmp"):
        if not is_temporary_name(candidate.name):
            continue
        with contextlib.suppress(OSError), open(candidate, "rb") as held:
            try:
                fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # another classify is writing it
            candidate.unlink()


def _read_objects(path: str) -> Iterator[dict[str, Any]]:
    with open(path, "rb") as raw_lines:
        for line_number, raw in enumerate(raw_lines, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                problem = f"not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})"
                raise JsonlInputError(path, line_number, problem) from None
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise JsonlInputError(path, line_number, f"not valid JSON ({exc.msg})") from None
            if not isinstance(obj, dict):
                raise JsonlInputError(path, line_number, "expected a JSON object")
            if not isinstance(obj.get("text"), str):
                raise JsonlInputError(path, line_number, 'no string "text" field')
            yield obj


def _batches(objects: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for obj in objects:
        batch.append(obj)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
