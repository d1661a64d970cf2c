"""The repository's own texts, for tests that compare two ways of computing the same features."""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "data"


def labeled_articles() -> dict[str, list[str]]:
    """Paragraph texts of data/labeled/, grouped by article in paragraph order (a row without an article is
    an article of its own)."""
    articles: dict[str, list[tuple[int, str]]] = {}
    for path in sorted((DATA / "labeled").glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            if line.strip():
                row = json.loads(line)
                key = f"{path.name}:{row.get('article_id') or number}"
                articles.setdefault(key, []).append((int(row.get("para_index") or 0), row["text"]))
    return {key: [text for _, text in sorted(rows)] for key, rows in articles.items()}


def sample_articles() -> dict[str, tuple[str | None, list[str]]]:
    """(title, paragraphs) of every article of the offline sample."""
    found = {}
    for path in sorted((DATA / "samples").glob("*/articles.json")):
        for number, article in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            found[f"{path.parent.name}:{number}"] = (article.get("title"), list(article["paragraphs"]))
    return found
