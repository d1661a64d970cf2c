"""The copies a reprocess keeps, held in columns (wirestance.reprocess._KeptCopies): what goes in comes
back out, a later copy takes its article's place, and the store order is by publication time then id."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from wirestance.reprocess import _Kept, _KeptCopies

ISTANBUL = timezone(timedelta(hours=3))


def kept(article_id: str, published: datetime, updated: datetime | None = None, offset: int = 0) -> _Kept:
    return _Kept(
        published,
        article_id,
        offset,
        100 + offset,
        "anadolu",
        updated,
        hashlib.sha256(f"content {article_id} {offset}".encode()).digest(),
        hashlib.sha256(f"paragraphs {article_id}".encode()).digest(),
        f"anadolu-{offset % 2}",
    )


def test_a_kept_copy_comes_back_as_it_went_in():
    copies = _KeptCopies("anadolu")
    # 01:30 in Istanbul is the previous day in UTC: the day of the copy is the one it was dated with.
    early = kept("1", datetime(2019, 11, 26, 1, 30, tzinfo=ISTANBUL), datetime(2019, 11, 27, 9, 0, 0, 7, tzinfo=UTC))
    plain = kept("2", datetime(2019, 11, 25, 22, 0, tzinfo=UTC), offset=5)
    copies.put(early)
    copies.put(plain)

    assert copies.get("1") == early
    assert copies.get("1").day == early.published.date() == datetime(2019, 11, 26).date()
    assert copies.get("2") == plain
    assert copies.get("3") is None
    assert len(copies) == 2


def test_a_later_copy_takes_its_articles_place():
    copies = _KeptCopies("anadolu")
    copies.put(kept("1", datetime(2020, 1, 1, tzinfo=UTC)))
    copies.put(kept("2", datetime(2020, 1, 2, tzinfo=UTC)))
    later = kept("1", datetime(2020, 1, 3, tzinfo=UTC), datetime(2020, 1, 4, tzinfo=UTC), offset=7)
    copies.put(later)

    assert len(copies) == 2
    assert copies.get("1") == later
    assert [k.article_id for k in copies.take_oldest_first()] == ["2", "1"]


def test_copies_are_stored_oldest_first_then_by_id():
    copies = _KeptCopies("anadolu")
    same_instant = datetime(2021, 5, 1, 12, tzinfo=UTC)
    for article_id, published in [
        ("b", same_instant),
        ("a", same_instant.astimezone(ISTANBUL)),  # the same instant, dated in another zone
        ("c", same_instant - timedelta(microseconds=1)),
    ]:
        copies.put(kept(article_id, published))

    assert [k.article_id for k in copies.take_oldest_first()] == ["c", "a", "b"]
    assert copies.get("a") is None  # the scan is over: copies are no longer looked up by id


def test_a_copy_without_two_sha256_digests_is_refused():
    broken = kept("1", datetime(2020, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="digests of 40 bytes"):
        _KeptCopies("anadolu").put(
            _Kept(broken.published, "1", 0, 1, "anadolu", None, b"x" * 8, broken.paragraphs_digest, "p")
        )
