"""The benchmark's inputs: synthetic AA pages, a raw WARC archive of them and a replayable site."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from wirestance.archive.writer import Exchange, WarcWriter
from wirestance.lake import Lake
from wirestance.samples.build import build_site
from wirestance.samples.synthetic import synthetic_pages

#: First fetch time of the synthetic archive; one page a second after it.
ARCHIVE_START = datetime(2026, 7, 1, tzinfo=UTC)
_REQUEST_HEADERS = {"User-Agent": "wirestance-bench", "Accept-Encoding": "gzip, deflate"}
_RESPONSE_HEADERS = {"content-type": "text/html; charset=utf-8"}


@dataclass(frozen=True)
class Page:
    url: str
    html: str
    paragraphs: int


def sample_pages(n: int, seed: int) -> list[Page]:
    return [Page(url, html, len(spec["paragraphs"])) for url, html, spec in synthetic_pages(n, seed)]


@dataclass(frozen=True)
class Archive:
    """A raw archive (`raw`) and a lake holding only its index (`lake_template`), built by the real writer."""

    raw: Path
    lake_template: Path
    pages: int
    paragraphs: int
    bytes: int
    build_seconds: float

    def fresh_lake(self, where: Path) -> Path:
        """A lake for one run: a copy of the index, no articles yet. The raw archive is shared (read only)."""
        if where.exists():
            shutil.rmtree(where)
        shutil.copytree(self.lake_template, where)
        return where


def build_archive(root: Path, n: int, seed: int) -> Archive:
    """Write `n` synthetic pages to WARC files under root/raw with WarcWriter, indexed in root/lake."""
    raw, lake_dir = root / "raw", root / "lake"
    started = time.perf_counter()
    writer = WarcWriter(str(raw), Lake(str(lake_dir)))
    paragraphs = 0
    for number, (url, html, spec) in enumerate(synthetic_pages(n, seed)):
        paragraphs += len(spec["paragraphs"])
        writer.write(_exchange(url, html.encode("utf-8"), ARCHIVE_START + timedelta(seconds=number)))
    writer.close()
    size = sum(p.stat().st_size for p in raw.rglob("*") if p.is_file())
    return Archive(raw, lake_dir, n, paragraphs, size, time.perf_counter() - started)


def _exchange(url: str, body: bytes, fetched_at: datetime) -> Exchange:
    return Exchange(
        method="GET",
        url=url,
        request_headers=_REQUEST_HEADERS,
        request_body=None,
        status=200,
        headers=_RESPONSE_HEADERS,
        body=body,
        fetched_at=fetched_at,
    )


def build_replay_site(folder: Path, n: int, seed: int) -> Path:
    """A replayable copy of aa.com.tr/en holding `n` synthetic articles (pages, feeds, robots.txt)."""
    folder.mkdir(parents=True, exist_ok=True)
    specs: Iterable[dict[str, Any]] = (spec for _, _, spec in synthetic_pages(n, seed))
    (folder / "articles.json").write_text(json.dumps(list(specs), ensure_ascii=False), encoding="utf-8")
    build_site(folder)
    return folder
