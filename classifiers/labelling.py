"""The labelling loop: export the stored paragraphs the model is least sure of for review, import the
reviewed rows into data/labeled/, and list labelled rows that are most likely mislabelled.

Export spreads the picks over articles (a few per article, least sure first) and gives each paragraph its
article's title and its neighbours, because the guide labels a paragraph in its article (rule 9).
Import is all or nothing: every row is checked, and one bad row refuses the file, naming every bad row.
"""

from __future__ import annotations

import csv
import json
import os
import uuid
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.dataset as ds
from numpy.typing import NDArray

from wirestance.classifiers.dataset import LabeledDataError, LabeledDataset, load_labeled_data
from wirestance.classifiers.labels import LABEL_INDEX, LABELS
from wirestance.classifiers.nearcopy import NEAR_COPY_JACCARD, NearCopyIndex
from wirestance.lake import Lake
from wirestance.lake.schema import PARTITION_COLUMN, PROBABILITY_COLUMNS

REVIEW_COLUMNS = (
    "source",
    "article_id",
    "para_index",
    "published_date",
    "title",
    "previous_paragraph",
    "text",
    "next_paragraph",
    "predicted_label",
    "confidence",
    "model_version",
    "label",
    "note",
)
#: Picks per article in the first pass; more only when there are too few articles to fill the request.
PER_ARTICLE = 2


# --- export ---------------------------------------------------------------------------------------


def export_for_review(lake: Lake, since: date, until: date, n: int, out_dir: str | os.PathLike[str]) -> int:
    """Write DIR/review.csv and DIR/review.jsonl: up to `n` stored paragraphs published in [since, until)
    that the model is least sure of (smallest margin between its top two labels), spread over articles,
    with an empty `label` column. Returns the number of rows written."""
    if until <= since:
        raise ValueError(f"--until {until} is not after --since {since}")
    window = (ds.field(PARTITION_COLUMN) >= since) & (ds.field(PARTITION_COLUMN) < until)
    paragraphs = lake.read("paragraphs", filter=window).to_pylist()
    titles = {
        (row["source"], row["article_id"]): row["title"]
        for row in lake.read("articles", filter=window, columns=["source", "article_id", "title"]).to_pylist()
    }
    by_article: dict[tuple[str, str], dict[int, dict[str, Any]]] = defaultdict(dict)
    for row in paragraphs:
        by_article[(row["source"], row["article_id"])][int(row["para_index"])] = row
    picks = least_sure_spread(
        [(key, index, _margin(row)) for key, rows in by_article.items() for index, row in rows.items()], n
    )
    records = []
    for key, index in picks:
        rows = by_article[key]
        row = rows[index]
        records.append(
            {
                "source": key[0],
                "article_id": key[1],
                "para_index": index,
                "published_date": str(row.get(PARTITION_COLUMN) or ""),
                "title": titles.get(key) or "",
                "previous_paragraph": (rows.get(index - 1) or {}).get("text") or "",
                "text": row["text"],
                "next_paragraph": (rows.get(index + 1) or {}).get("text") or "",
                "predicted_label": row.get("label") or "",
                "confidence": round(float(row.get("confidence") or 0.0), 4),
                "model_version": row.get("model_version") or "",
                "label": "",
                "note": "",
            }
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _write_text(out / "review.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    _write_csv(out / "review.csv", records)
    return len(records)


def least_sure_spread(candidates: Sequence[tuple[Any, int, float]], n: int) -> list[tuple[Any, int]]:
    """(article, para_index) of up to `n` candidates (article, para_index, margin): smallest margin first,
    at most PER_ARTICLE per article until every article had its turn, then the rest by margin."""
    ordered = sorted(candidates, key=lambda c: (c[2], str(c[0]), c[1]))
    taken: list[tuple[Any, int]] = []
    per_article: dict[Any, int] = defaultdict(int)
    rest = []
    for article, index, _margin_value in ordered:
        if len(taken) >= n:
            break
        if per_article[article] < PER_ARTICLE:
            per_article[article] += 1
            taken.append((article, index))
        else:
            rest.append((article, index))
    taken += rest[: max(0, n - len(taken))]
    return taken


def _margin(row: Mapping[str, Any]) -> float:
    probabilities = sorted((float(row.get(column) or 0.0) for column in PROBABILITY_COLUMNS), reverse=True)
    return probabilities[0] - probabilities[1]


# --- import ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    added: int
    #: Rows whose text is already labelled the same way.
    already_labelled: int
    #: Rows left with an empty label (not reviewed).
    not_reviewed: int
    written_to: str | None


def import_reviewed(
    path: str | os.PathLike[str],
    labeled_dir: str | os.PathLike[str],
    yardstick: Sequence[str] = (),
    *,
    now: datetime | None = None,
) -> ImportResult:
    """Validate reviewed rows and add them to `labeled_dir` as a new JSONL file.

    Refused whole (LabeledDataError naming every bad row) on: a label not in LABELS, an empty text, a text
    of the yardstick or a near copy of one, a text already labelled otherwise in `labeled_dir`, or the
    same text twice in the file with different labels. Rows with an empty label are not reviewed: skipped
    and counted. A text already labelled the same way is skipped and counted."""
    source = Path(path)
    rows = list(_read_review_rows(source))
    existing = _existing_labels(Path(labeled_dir))
    near = NearCopyIndex(list(yardstick)) if yardstick else None
    problems: list[str] = []
    accepted: list[dict[str, Any]] = []
    in_file: dict[str, tuple[str, str]] = {}
    already = unreviewed = 0
    for location, row in rows:
        if isinstance(row, str):
            problems.append(f"{location}: {row}")
            continue
        label = str(row.get("label") or "").strip()
        text = str(row.get("text") or "").strip()
        if not text:
            problems.append(f"{location}: empty text")
            continue
        if not label:
            unreviewed += 1
            continue
        if label not in LABELS:
            problems.append(f"{location}: unknown label {label!r} (expected one of {', '.join(LABELS)})")
            continue
        if near is not None:
            match = near.best_match(text)
            if match is not None and match[1] >= NEAR_COPY_JACCARD:
                problems.append(
                    f"{location}: text is (a near copy of) a yardstick text; the yardstick is never trained on"
                )
                continue
        key = " ".join(text.split())
        if key in existing:
            if existing[key] == label:
                already += 1
            else:
                problems.append(f"{location}: text already labelled {existing[key]!r} in {labeled_dir}, not {label!r}")
            continue
        if key in in_file:
            earlier_label, earlier_location = in_file[key]
            if earlier_label != label:
                problems.append(f"{location}: same text as {earlier_location} with another label ({earlier_label!r})")
            else:
                already += 1
            continue
        in_file[key] = (label, location)
        accepted.append(_labelled_row(row, text, label))
    if problems:
        raise LabeledDataError([f"{source}: refused, nothing added", *problems])
    written = None
    if accepted:
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
        target = Path(labeled_dir) / f"reviewed-{stamp}.jsonl"
        if target.exists():
            target = Path(labeled_dir) / f"reviewed-{stamp}-{uuid.uuid4().hex[:6]}.jsonl"
        Path(labeled_dir).mkdir(parents=True, exist_ok=True)
        _write_text(target, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in accepted))
        written = str(target)
    return ImportResult(len(accepted), already, unreviewed, written)


def _labelled_row(row: Mapping[str, Any], text: str, label: str) -> dict[str, Any]:
    para_index = row.get("para_index")
    try:
        para_index = int(para_index) if para_index not in (None, "") else None
    except (TypeError, ValueError):
        para_index = None
    result: dict[str, Any] = {"text": text, "label": label}
    for name in ("article_id", "source", "title"):
        if row.get(name) not in (None, ""):
            result[name] = str(row[name])
    if para_index is not None:
        result["para_index"] = para_index
    if row.get("published_date"):
        result["date"] = str(row["published_date"])
    result["note"] = str(row.get("note") or "reviewed")
    return result


def _existing_labels(labeled_dir: Path) -> dict[str, str]:
    if not labeled_dir.exists():
        return {}
    try:
        dataset = load_labeled_data(labeled_dir)
    except LabeledDataError as exc:
        if any("no .jsonl" in p or "no labelled rows" in p for p in exc.problems):
            return {}
        raise
    return {" ".join(row.text.split()): row.label for row in dataset.rows}


def _read_review_rows(path: Path) -> Iterator[tuple[str, dict[str, Any] | str]]:
    if not path.is_file():
        raise LabeledDataError([f"{path}: no such file"])
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield f"line {number}", f"not valid JSON ({exc.msg})"
                    continue
                yield f"line {number}", value if isinstance(value, dict) else "expected a JSON object"
    elif path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = {"text", "label"} - set(reader.fieldnames or ())
            if missing:
                raise LabeledDataError([f"{path}: missing column(s) {', '.join(sorted(missing))}"])
            for record in reader:
                yield f"line {reader.line_num}", dict(record)
    else:
        raise LabeledDataError([f"{path}: expected a .csv or .jsonl file"])


# --- likely label errors --------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelIssue:
    location: str
    text: str
    given: str
    suggested: str
    #: Out-of-fold probability of the given label.
    given_probability: float
    suggested_probability: float


def find_label_issues(dataset: LabeledDataset, probabilities: NDArray[np.float64]) -> list[LabelIssue]:
    """Confident learning (Northcutt et al.): per label, a threshold = the mean out-of-fold probability of
    that label over the rows that carry it; a row is a likely error when another label's probability is
    at least that label's threshold and is the largest such. Ranked by how little the model believes the
    given label."""
    given = np.array([LABEL_INDEX[label] for label in dataset.labels])
    thresholds = np.array(
        [probabilities[given == k, k].mean() if (given == k).any() else 1.0 for k in range(len(LABELS))]
    )
    issues = []
    for row_index, row in enumerate(dataset.rows):
        above = np.flatnonzero(probabilities[row_index] >= thresholds)
        if above.size == 0:
            continue
        suggested = int(above[np.argmax(probabilities[row_index, above])])
        if suggested == given[row_index]:
            continue
        issues.append(
            LabelIssue(
                row.location,
                row.text,
                row.label,
                LABELS[suggested],
                float(probabilities[row_index, given[row_index]]),
                float(probabilities[row_index, suggested]),
            )
        )
    return sorted(issues, key=lambda issue: (issue.given_probability, issue.location))


# --- files ----------------------------------------------------------------------------------------


def _write_text(path: Path, text: str) -> None:
    temporary = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _write_csv(path: Path, records: list[dict[str, Any]]) -> None:
    temporary = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    with temporary.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(REVIEW_COLUMNS))
        writer.writeheader()
        writer.writerows(records)
    os.replace(temporary, path)
