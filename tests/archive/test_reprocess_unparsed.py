"""Responses a reprocess does not parse again: a stored article parsed from the same bytes (its payload
digest) by today's parser and labelled by today's model stands for the response, in its place in fetch order.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from stand_ins import FakeModel
from test_reprocess import ingest_with_archive, table_rows
from test_reprocess_reuse import ALL_TIME, RefusingModel

from wirestance import workers
from wirestance.archive.writer import Exchange, WarcWriter
from wirestance.lake import Lake
from wirestance.reprocess import run_reprocess
from wirestance.samples.synthetic import synthetic_pages
from wirestance.settings import Settings

FETCHED = datetime(2026, 7, 1, tzinfo=UTC)


def _refuse_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError(f"a response was parsed again: {args[1]}")

    monkeypatch.setattr(workers, "parse_page", refuse)


def test_ingested_articles_carry_the_digest_of_their_archived_response(settings: Settings):
    stored = ingest_with_archive(settings, FakeModel())
    lake = Lake(settings.lake_url)
    archived = {row["payload_digest"] for row in lake.read("raw_index", columns=["payload_digest"]).to_pylist()}
    digests = [row["payload_digest"] for row in table_rows(lake, "articles")]
    assert len(digests) == stored and all(d is not None and d.startswith("sha1:") for d in digests)
    assert set(digests) <= archived


def test_an_unchanged_archive_is_not_parsed_again(settings: Settings, monkeypatch: pytest.MonkeyPatch):
    stored = ingest_with_archive(settings, FakeModel())
    lake = Lake(settings.lake_url)
    before = {t: table_rows(lake, t) for t in ("articles", "paragraphs")}
    _refuse_parsing(monkeypatch)  # workers=0: a parse would happen in this process

    [row] = run_reprocess(settings, ALL_TIME, ["anadolu"], RefusingModel(), hosts=["127.0.0.1"], workers=0)

    assert row["not_reparsed"] == row["unchanged"] == row["articles"] == stored
    assert row["labelled"] == row["new"] == row["updated"] == row["failed"] == 0
    assert {t: table_rows(lake, t) for t in ("articles", "paragraphs")} == before


def test_reparse_parses_an_unchanged_archive_and_writes_nothing(settings: Settings):
    """After a change no version says (the screening limits): every response parsed, the same articles
    found unchanged, nothing written."""
    stored = ingest_with_archive(settings, FakeModel())
    lake = Lake(settings.lake_url)
    before = {t: table_rows(lake, t) for t in ("articles", "paragraphs")}

    [row] = run_reprocess(
        settings, ALL_TIME, ["anadolu"], RefusingModel(), hosts=["127.0.0.1"], workers=0, reparse=True
    )

    assert row["not_reparsed"] == 0 and row["unchanged"] == row["articles"] == stored
    assert row["labelled"] == row["new"] == row["updated"] == row["failed"] == 0
    assert {t: table_rows(lake, t) for t in ("articles", "paragraphs")} == before


def test_reparse_applies_changed_screening_limits(settings: Settings):
    stored = ingest_with_archive(settings, FakeModel())
    strict = replace(settings, max_paragraphs=1)

    [kept] = run_reprocess(strict, ALL_TIME, ["anadolu"], FakeModel(), hosts=["127.0.0.1"], workers=0)
    [row] = run_reprocess(strict, ALL_TIME, ["anadolu"], FakeModel(), hosts=["127.0.0.1"], workers=0, reparse=True)

    assert kept["failed"] == 0 and kept["not_reparsed"] == stored  # no version changed: nothing parsed
    assert row["not_reparsed"] == 0 and row["failed"] > 0  # the longer articles now refused, each a failure


@pytest.mark.parametrize("change", ["model", "parser", "no digest"])
def test_articles_not_current_are_parsed_again(settings: Settings, change: str):
    stored = ingest_with_archive(settings, FakeModel("test-model-1"))
    lake = Lake(settings.lake_url)
    model = FakeModel("test-model-2" if change == "model" else "test-model-1")
    if change != "model":
        articles, paragraphs = table_rows(lake, "articles"), table_rows(lake, "paragraphs")
        for row in articles:
            if change == "parser":
                row["parser_version"] = "anadolu/older-v0"
            else:
                row["payload_digest"] = None  # stored before the lake kept digests
        lake.upsert(articles, paragraphs, replace_unchanged=True)

    [row] = run_reprocess(settings, ALL_TIME, ["anadolu"], model, hosts=["127.0.0.1"], workers=2)

    assert row["not_reparsed"] == 0 and row["articles"] == stored and row["failed"] == 0
    assert row["updated"] == (0 if change == "no digest" else stored)
    # Every article is stored from a parse now, so the next reprocess parses none of them.
    [again] = run_reprocess(settings, ALL_TIME, ["anadolu"], model, hosts=["127.0.0.1"], workers=0)
    assert again["not_reparsed"] == (0 if change == "no digest" else stored)


def _archive(settings: Settings, pages: list[tuple[str, str]], start: datetime) -> None:
    writer = WarcWriter(settings.raw_url, Lake(settings.lake_url))
    for number, (url, html) in enumerate(pages):
        writer.write(
            Exchange(
                method="GET",
                url=url,
                request_headers={"User-Agent": "wirestance-test"},
                request_body=None,
                status=200,
                headers={"content-type": "text/html; charset=utf-8"},
                body=html.encode("utf-8"),
                fetched_at=start + timedelta(seconds=number),
            )
        )
    writer.close()


def test_a_later_changed_copy_still_replaces_the_unparsed_one(settings: Settings):
    """Which copy is kept depends on the order copies are seen in (a changed content replaces the kept one
    unless its update time is older): the unparsed copy takes its place in fetch order, before the later one."""
    (url, html, spec), (other_url, other_html, _) = list(synthetic_pages(2, seed=3))
    _archive(settings, [(url, html), (other_url, other_html)], FETCHED)
    model = FakeModel()
    [first] = run_reprocess(settings, ALL_TIME, ["anadolu"], model, workers=0)
    assert first["new"] == 2
    first_paragraph = spec["paragraphs"][0]
    changed = html.replace(first_paragraph, first_paragraph + " A sentence added later.", 1)
    assert changed != html
    _archive(settings, [(url, changed)], FETCHED + timedelta(days=1))

    [second] = run_reprocess(settings, ALL_TIME, ["anadolu"], model, workers=2)

    assert second["not_reparsed"] == 2 and second["responses"] == 3
    assert second["updated"] == 1 and second["unchanged"] == 1
    texts = [r["text"] for r in table_rows(Lake(settings.lake_url), "paragraphs") if r["para_index"] == 0]
    assert first_paragraph + " A sentence added later." in texts
