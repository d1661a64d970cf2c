from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from wirestance.lake import Lake
from wirestance.lake.schema import PROBABILITY_COLUMNS, STANCE_LABELS

FIRST_DAY = date(2019, 11, 4)  # a Monday
DAYS = 42  # six weeks
#: Written for these tests (not quoted from any article); the first one would end a <script> if unescaped.
TEXTS = {
    "russian_supplier": "Moscow says the </script> deliveries of the air-defence batteries are on schedule.",
    "turkish_government": "Ankara says the purchase is a sovereign decision <b>and</b> will not be reversed.",
    "us_objection": "Washington warns that buying the system may bring sanctions.",
    "none": "The ministry published its weekly schedule.",
}


def _article(source: str, article_id: str, day: date) -> dict:
    published = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
    return {
        "source": source,
        "article_id": article_id,
        "url": f"https://{source}.example.org/news/{article_id}",
        "canonical_url": f"https://{source}.example.org/news/{article_id}",
        "title": f"{source} story {article_id}",
        "lede": None,
        "authors": [],
        "published": published,
        "updated": published,
        "dateline": "ANKARA",
        "category": "politics",
        "tags": [],
        "language": "en",
        "n_paragraphs": 4,
        "content_hash": f"{source}-{article_id}",
        "fetched_at": published,
        "capture_time": None,
        "capture_origin": None,
        "parser_version": "test-parser",
        "schema_version": 1,
        "published_date": day,
    }


def _paragraph(source: str, article_id: str, index: int, label: str, confidence: float, model: str) -> dict:
    rest = (1.0 - confidence) / (len(STANCE_LABELS) - 1)
    probabilities = {f"p_{name}": confidence if name == label else rest for name in STANCE_LABELS}
    assert set(probabilities) == set(PROBABILITY_COLUMNS)
    return {
        "source": source,
        "article_id": article_id,
        "para_index": index,
        "text": f"{TEXTS[label]} ({article_id}/{index})",
        "label": label,
        "confidence": confidence,
        **probabilities,
        "model_version": model,
        "parser_version": "test-parser",
        "schema_version": 1,
    }


def build_lake(root: Path) -> dict[str, int]:
    """Two agencies over six weeks: anadolu daily, trt every third day (thin weeks); the Turkish government's
    share grows week by week at anadolu. Returns the counts written."""
    lake = Lake(str(root))
    articles, paragraphs = [], []
    for offset in range(DAYS):
        day = FIRST_DAY + timedelta(days=offset)
        week = offset // 7
        for source, every in (("anadolu", 1), ("trt", 3)):
            if offset % every:
                continue
            article_id = f"{day:%Y%m%d}"
            articles.append(_article(source, article_id, day))
            for index in range(4):
                label = (
                    STANCE_LABELS[(index + week) % 4]
                    if source == "trt"
                    else ("turkish_government" if index < 1 + week % 4 else STANCE_LABELS[index % 4])
                )
                confidence = 0.35 + 0.6 * ((offset * 7 + index * 3) % 10) / 10
                model = "model-a" if offset < 21 else "model-b"
                paragraphs.append(_paragraph(source, article_id, index, label, round(confidence, 3), model))
    lake.upsert(articles, paragraphs)
    return {"articles": len(articles), "paragraphs": len(paragraphs)}


@pytest.fixture(scope="session")
def synthetic_lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    root = tmp_path_factory.mktemp("report-lake") / "lake"
    return root, build_lake(root)
