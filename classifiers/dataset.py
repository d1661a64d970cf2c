"""Load and validate labelled paragraphs.

Accepted inputs: one .jsonl or .csv file; a directory of such files; a parquet file, a directory holding a
parquet dataset (the lake's hive-partitioned tables) or an fsspec URL to one. Every record needs `text` and
`label`; `article_id`, `para_index` and `source` are used when present.

Validation collects every problem before failing, so a labeller fixes a file in one pass.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wirestance.classifiers.labels import LABELS

_TABULAR_SUFFIXES = (".jsonl", ".csv", ".parquet")
_EXCERPT_CHARS = 60


class LabeledDataError(ValueError):
    """The labelled data cannot be used; `problems` lists every one, each naming its file and row."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        # One line: the CLI prints errors as a single line and Prefect shows it as the failure message.
        super().__init__(f"labelled data has {count} {noun}: " + "; ".join(self.problems))


@dataclass(frozen=True)
class LabeledRow:
    text: str
    label: str
    #: The article the paragraph belongs to; cross-validation and the evaluation split never cut one.
    group: str
    #: Stable identity of the paragraph (source/article#para_index, else file and line).
    row_key: str
    #: Where it was read, for messages: "data/labeled/x.jsonl line 12".
    location: str
    #: Set when the row is a paragraph of a known article (article id and para_index both given): such
    #: rows are labelled together with their article, in para_index order.
    para_index: int | None = None
    #: Outlet or source that published the article (`outlet`, else `source`), for per-outlet scores.
    outlet: str | None = None


@dataclass(frozen=True)
class LabeledDataset:
    rows: tuple[LabeledRow, ...]
    #: The path or URL the rows were read from.
    origin: str

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def texts(self) -> list[str]:
        return [row.text for row in self.rows]

    @property
    def labels(self) -> list[str]:
        return [row.label for row in self.rows]

    @property
    def groups(self) -> list[str]:
        return [row.group for row in self.rows]

    def subset(self, indices: Iterable[int]) -> LabeledDataset:
        return LabeledDataset(tuple(self.rows[i] for i in indices), self.origin)

    def article_positions(self) -> tuple[list[list[int]], list[int]]:
        """Row positions of each article in para_index order (articles in order of first appearance), and
        the positions of rows that stand alone (no article id or no para_index)."""
        articles: dict[str, list[int]] = {}
        alone: list[int] = []
        for position, row in enumerate(self.rows):
            if row.para_index is None:
                alone.append(position)
            else:
                articles.setdefault(row.group, []).append(position)
        ordered = [sorted(positions, key=lambda p: self.rows[p].para_index or 0) for positions in articles.values()]
        return ordered, alone

    def label_counts(self) -> dict[str, int]:
        counts = Counter(self.labels)
        return {label: counts.get(label, 0) for label in LABELS}

    def content_hash(self) -> str:
        """SHA-256 of the (text, label) pairs, independent of file names and row order."""
        lines = sorted(f"{row.label}\t{row.text}" for row in self.rows)
        return _sha256_lines(lines)

    def rows_hash(self) -> str:
        """SHA-256 of the row identities and texts: names exactly which paragraphs a split holds."""
        lines = sorted(f"{row.row_key}\t{row.text}" for row in self.rows)
        return _sha256_lines(lines)


@dataclass(frozen=True)
class _RawRecord:
    location: str
    fields: Mapping[str, Any]


def load_labeled_data(path: str | os.PathLike[str]) -> LabeledDataset:
    """Read every labelled record under `path` and validate them all; raise LabeledDataError on any problem."""
    origin = os.fspath(path)
    problems: list[str] = []
    records: list[_RawRecord] = []
    for record_or_problem in _read_records(origin):
        if isinstance(record_or_problem, str):
            problems.append(record_or_problem)
        else:
            records.append(record_or_problem)
    rows, row_problems = _validate(records)
    problems.extend(row_problems)
    if not problems and not rows:
        problems.append(f"{origin}: no labelled rows found")
    if problems:
        raise LabeledDataError(problems)
    return LabeledDataset(tuple(rows), origin)


def _read_records(origin: str) -> Iterator[_RawRecord | str]:
    if "://" in origin:
        yield from _read_parquet(origin)
        return
    path = Path(origin)
    if not path.exists():
        yield f"{origin}: no such file or directory"
        return
    if path.is_file():
        yield from _read_file(path)
        return
    members = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in _TABULAR_SUFFIXES)
    if members:
        for member in members:
            yield from _read_file(member)
    elif any(path.rglob("*.parquet")):  # a hive-partitioned parquet table, e.g. the lake's paragraphs
        yield from _read_parquet(origin)
    else:
        yield f"{origin}: no .jsonl, .csv or .parquet files"


def _read_file(path: Path) -> Iterator[_RawRecord | str]:
    if path.suffix == ".jsonl":
        yield from _read_jsonl(path)
    elif path.suffix == ".csv":
        yield from _read_csv(path)
    elif path.suffix == ".parquet":
        yield from _read_parquet(str(path))
    else:
        yield f"{path}: unsupported file type (expected .jsonl, .csv or .parquet)"


def _read_jsonl(path: Path) -> Iterator[_RawRecord | str]:
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            location = f"{path} line {line_number}"
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                yield f"{location}: not valid JSON ({exc.msg})"
                continue
            if not isinstance(value, dict):
                yield f"{location}: expected a JSON object"
                continue
            yield _RawRecord(location, value)


def _read_csv(path: Path) -> Iterator[_RawRecord | str]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"text", "label"} - set(reader.fieldnames or ())
        if missing:
            yield f"{path}: missing column(s) {', '.join(sorted(missing))}"
            return
        for record in reader:
            # line_num is the line where the record ends: the line an editor shows for one-line records.
            yield _RawRecord(f"{path} line {reader.line_num}", record)


def _read_parquet(origin: str) -> Iterator[_RawRecord | str]:
    import pandas as pd  # only parquet inputs pay for the import
    from deltalake import DeltaTable

    try:
        # A lake table (Delta): read through its log; its folder also holds superseded files.
        frame = DeltaTable(origin).to_pandas() if _is_delta_table(origin) else pd.read_parquet(origin)
    except (OSError, ValueError) as exc:
        yield f"{origin}: cannot read parquet ({exc})"
        return
    missing = {"text", "label"} - set(frame.columns)
    if missing:
        yield f"{origin}: missing column(s) {', '.join(sorted(missing))}"
        return
    for index, record in enumerate(frame.to_dict(orient="records"), start=1):
        yield _RawRecord(f"{origin} row {index}", record)


def _is_delta_table(origin: str) -> bool:
    if "://" not in origin:
        return (Path(origin) / "_delta_log").is_dir()
    from deltalake import DeltaTable

    try:
        return DeltaTable.is_deltatable(origin)
    except Exception:  # not a table, or not reachable: read as plain parquet and report what fails there
        return False


def _validate(records: list[_RawRecord]) -> tuple[list[LabeledRow], list[str]]:
    problems: list[str] = []
    rows: list[LabeledRow] = []
    for record in records:
        text = _text_of(record)
        label = record.fields.get("label")
        if text is None:
            problems.append(f"{record.location}: empty text")
        if not isinstance(label, str) or label not in LABELS:
            problems.append(f"{record.location}: unknown label {label!r} (expected one of {', '.join(LABELS)})")
        elif text is not None:
            group, row_key = _identity(record)
            para_index = _para_index(record) if group != record.location else None
            outlet = _present(record.fields.get("outlet")) or _present(record.fields.get("source"))
            rows.append(LabeledRow(text.strip(), label, group, row_key, record.location, para_index, outlet))
    problems.extend(_duplicate_problems(records))
    return rows, problems


def _text_of(record: _RawRecord) -> str | None:
    text = record.fields.get("text")
    return text if isinstance(text, str) and text.strip() else None


def _identity(record: _RawRecord) -> tuple[str, str]:
    """The article group and the row key; without an article id the row is its own group."""
    article_id = _present(record.fields.get("article_id"))
    if article_id is None:
        return record.location, record.location
    source = _present(record.fields.get("source"))
    # Article ids are only unique within one source.
    group = f"{source}/{article_id}" if source else article_id
    para_index = _present(record.fields.get("para_index"))
    return group, f"{group}#{para_index}" if para_index is not None else record.location


def _para_index(record: _RawRecord) -> int | None:
    value = _present(record.fields.get("para_index"))
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _present(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and value != value):  # NaN from parquet/pandas
        return None
    text = str(value).strip()
    return text or None


def _duplicate_problems(records: list[_RawRecord]) -> list[str]:
    by_text: dict[str, list[_RawRecord]] = defaultdict(list)
    for record in records:
        text = _text_of(record)
        if text is not None:
            # Whitespace differences are not a different paragraph.
            by_text[" ".join(text.split())].append(record)
    problems = []
    for text, copies in by_text.items():
        if len(copies) < 2:
            continue
        excerpt = text if len(text) <= _EXCERPT_CHARS else text[: _EXCERPT_CHARS - 3] + "..."
        labels = {str(copy.fields.get("label")) for copy in copies}
        if len(labels) > 1:
            where = ", ".join(f"{copy.location} ({copy.fields.get('label')})" for copy in copies)
            problems.append(f"same text with two labels: {where}: {excerpt!r}")
        else:
            where = ", ".join(copy.location for copy in copies)
            problems.append(f"duplicate text: {where}: {excerpt!r}")
    return problems


def _sha256_lines(lines: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()
