"""Classify a JSONL file: one object with a string `text` per line in, the same objects plus the
prediction out, in input order.

Rows with `article_id` and `para_index` are paragraphs of one article: they are labelled together, in
para_index order, wherever they appear in the file (with `source`, article ids are per source). Rows
without `article_id` are labelled alone. Every input field is kept as it was; the prediction goes under
its own names (`predicted_label`, `confidence`, `probabilities`, `model_version`, and `on_topic`,
`topic_score` for article rows).

The whole input is read and checked before anything is labelled (an article's rows may be anywhere in the
file), and output goes to a temporary file renamed into place only when every line classified: a bad
line fails the run, names the line and leaves no output file behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wirestance.classifiers.article_model import ArticleText
from wirestance.classifiers.predict import Predictions, StanceModel
from wirestance.durable import is_temporary_name

#: Paragraphs per model call.
DEFAULT_BATCH_SIZE = 2000
PREDICTION_FIELDS = ("predicted_label", "confidence", "probabilities", "model_version")
ARTICLE_FIELDS = ("on_topic", "topic_score")


class JsonlInputError(ValueError):
    """A line of the input is not usable: not a JSON object, no string `text`, a bad article position."""

    def __init__(self, path: str, line_number: int, problem: str) -> None:
        self.path = path
        self.line_number = line_number
        super().__init__(f"{path} line {line_number}: {problem}")


@dataclass
class _Article:
    key: tuple[str, str]
    #: (para_index, position in the file) of each row.
    members: list[tuple[int, int]]
    title: str | None = None


def classify_jsonl(
    in_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    model: StanceModel,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> int:
    """Write each input object with the prediction fields added. Returns the number of objects written.
    Blank lines are skipped."""
    path = os.fspath(in_path)
    objects, line_numbers = [], []
    for line_number, obj in _read_objects(path):
        objects.append(obj)
        line_numbers.append(line_number)
    articles, alone = _group_articles(path, objects, line_numbers)
    results: list[dict[str, Any] | None] = [None] * len(objects)
    for chunk in _article_chunks(articles, batch_size):
        labelled = model.predict_articles(
            [ArticleText([objects[p]["text"] for _, p in a.members], title=a.title) for a in chunk]
        )
        for article, result in zip(chunk, labelled, strict=True):
            for row, (_, position) in enumerate(article.members):
                extra = {"on_topic": result.on_topic, "topic_score": round(result.topic_score, 6)}
                results[position] = _prediction_fields(result.predictions, row, model, extra)
    for start in range(0, len(alone), batch_size):
        positions = alone[start : start + batch_size]
        predictions = model.predict([objects[p]["text"] for p in positions])
        for row, position in enumerate(positions):
            results[position] = _prediction_fields(predictions, row, model, {})
    return _write_atomically(Path(out_path), objects, results)


def _prediction_fields(predictions: Predictions, row: int, model: StanceModel, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "predicted_label": predictions.labels[row],
        "confidence": round(float(predictions.confidence[row]), 6),
        "probabilities": {
            label: round(float(p), 6) for label, p in zip(model.labels, predictions.probabilities[row], strict=True)
        },
        "model_version": model.version,
        **extra,
    }


def _write_atomically(out: Path, objects: list[dict[str, Any]], results: list[dict[str, Any] | None]) -> int:
    _remove_abandoned_outputs(out)
    # Not mkstemp: its 0600 mode would survive the rename; "x" creates with the usual umask.
    temporary = out.parent / f".{out.name}.{uuid.uuid4().hex}.tmp"
    try:
        with open(temporary, "x", encoding="utf-8") as handle:
            # Held until the rename: tells a later run that this temporary file's writer is alive.
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            for obj, result in zip(objects, results, strict=True):
                handle.write(json.dumps({**obj, **(result or {})}, ensure_ascii=False) + "\n")
        os.replace(temporary, out)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return len(objects)


def _group_articles(
    path: str, objects: list[dict[str, Any]], line_numbers: list[int]
) -> tuple[list[_Article], list[int]]:
    articles: dict[tuple[str, str], _Article] = {}
    seen_index: dict[tuple[str, str], dict[int, int]] = {}
    alone: list[int] = []
    for position, (obj, line_number) in enumerate(zip(objects, line_numbers, strict=True)):
        article_id = obj.get("article_id")
        if article_id is None or article_id == "":
            alone.append(position)
            continue
        if not isinstance(article_id, str | int) or isinstance(article_id, bool):
            raise JsonlInputError(path, line_number, f"article_id must be a string or an integer, got {article_id!r}")
        para_index = obj.get("para_index")
        if para_index is None:
            raise JsonlInputError(path, line_number, f"article_id {article_id!r} without a para_index")
        if isinstance(para_index, bool) or not isinstance(para_index, int) or para_index < 0:
            raise JsonlInputError(path, line_number, f"para_index must be a non-negative integer, got {para_index!r}")
        key = (str(obj.get("source") or ""), str(article_id))
        earlier = seen_index.setdefault(key, {})
        if para_index in earlier:
            raise JsonlInputError(
                path,
                line_number,
                f"para_index {para_index} of article {article_id!r} already given on line {earlier[para_index]}",
            )
        earlier[para_index] = line_number
        article = articles.setdefault(key, _Article(key, []))
        article.members.append((para_index, position))
        title = obj.get("title")
        if article.title is None and isinstance(title, str) and title.strip():
            article.title = title
    for article in articles.values():
        article.members.sort()
    return list(articles.values()), alone


def _article_chunks(articles: list[_Article], size: int) -> Iterator[list[_Article]]:
    chunk: list[_Article] = []
    paragraphs = 0
    for article in articles:
        chunk.append(article)
        paragraphs += len(article.members)
        if paragraphs >= size:
            yield chunk
            chunk, paragraphs = [], 0
    if chunk:
        yield chunk


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


def _read_objects(path: str) -> Iterator[tuple[int, dict[str, Any]]]:
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
            taken = [name for name in (*PREDICTION_FIELDS, *ARTICLE_FIELDS) if name in obj]
            if taken:
                raise JsonlInputError(
                    path,
                    line_number,
                    f"field(s) {', '.join(taken)} would be overwritten by the prediction; rename them first",
                )
            yield line_number, obj
