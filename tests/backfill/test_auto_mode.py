"""How a backfill given no mode picks one: the feeds' horizon read from the sample site, the raw archive's
days, and the choice between them (no Prefect: `wirestance.backfill` alone)."""

from __future__ import annotations

import socket
from datetime import UTC, date, datetime, timedelta

from stand_ins import FakeModel

from wirestance.backfill import (
    ChunkRequest,
    DateRange,
    archive_has_days,
    choose_mode,
    feeds_horizon,
    resolve_mode,
    run_chunk,
    split_range,
)
from wirestance.replay import ReplayServer
from wirestance.resources import Resources
from wirestance.settings import Settings

#: The sample's oldest feed item is published on 2017-09-12, Istanbul midnight.
SAMPLE_HORIZON = datetime(2017, 9, 11, 21, tzinfo=UTC)


def _closed_port_url() -> str:
    """A loopback origin nothing listens on: its feeds list nothing."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_the_choice_between_feeds_archive_and_discovery():
    before = datetime(2017, 9, 1, tzinfo=UTC)
    assert choose_mode(datetime(2019, 1, 1, tzinfo=UTC), SAMPLE_HORIZON, False) == (
        "feeds",
        "the feeds list articles back to 2017-09-11T21:00+00:00",
    )
    mode, why = choose_mode(before, SAMPLE_HORIZON, False)
    assert mode == "discovery"
    assert why == (
        "the range ends before the oldest article the feeds list (2017-09-11T21:00+00:00) and the raw archive "
        "holds no article page fetched on those days"
    )
    assert choose_mode(before, SAMPLE_HORIZON, True)[0] == "archive"
    assert choose_mode(before, None, False)[1].startswith("the feeds list no article")


def test_the_feeds_horizon_and_the_ranges_before_and_after_it(settings: Settings, sample_server: ReplayServer):
    base = sample_server.base_url
    with Resources(settings, model=FakeModel()) as resources:
        assert feeds_horizon(resources, ["anadolu"], None, base) == SAMPLE_HORIZON
        late = DateRange(start_date=date(2019, 11, 26), days=2)
        assert resolve_mode(resources, late, ["anadolu"], None, base)[0] == "feeds"
        # Ends on 2017-09-11 in Istanbul, the day before the oldest item: nothing in the archive, so discovery.
        early = DateRange(start_date=date(2017, 9, 1), end_date=date(2017, 9, 11))
        mode, why = resolve_mode(resources, early, ["anadolu"], None, base)
    assert mode == "discovery" and "before the oldest article the feeds list" in why
    # Straddling the horizon counts as reachable: the feeds give what they list of it.
    with Resources(settings, model=FakeModel()) as resources:
        straddle = DateRange(start_date=date(2017, 9, 1), end_date=date(2017, 9, 12))
        assert resolve_mode(resources, straddle, ["anadolu"], None, base)[0] == "feeds"


def test_the_archive_is_chosen_when_it_holds_article_pages_of_those_days(
    settings: Settings, sample_server: ReplayServer
):
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    dead = _closed_port_url()
    with Resources(settings, model=FakeModel()) as resources:
        # The feeds themselves were fetched (and archived) above: feeds are no article pages.
        feeds_horizon(resources, ["anadolu"], None, sample_server.base_url)
        resources.flush()
        assert not archive_has_days(resources, ["anadolu"], today, today + timedelta(days=1), sample_server.base_url)
    with Resources(settings, model=FakeModel()) as resources:
        (chunk,) = split_range(DateRange(start_date=date(2019, 11, 26), days=1), 1, "Europe/Istanbul")
        (row,) = run_chunk(resources, chunk.window, ChunkRequest(feed_base_url=sample_server.base_url), "run-1")
        assert row["new"] > 0
    with Resources(settings, model=FakeModel()) as resources:
        # Article pages fetched today, none in 2017.
        assert archive_has_days(resources, ["anadolu"], today, today + timedelta(days=1), sample_server.base_url)
        assert not archive_has_days(
            resources, ["anadolu"], datetime(2017, 9, 1, tzinfo=UTC), datetime(2017, 9, 2, tzinfo=UTC)
        )
        # Feeds that list nothing (nothing listens there) and an archive holding today's article pages.
        this_day = DateRange(start_date=datetime.now(UTC).date(), days=1, timezone="UTC")
        mode, why = resolve_mode(resources, this_day, ["anadolu"], None, dead)
    assert mode == "archive", why
    assert why == "the feeds list no article and the raw archive holds article pages fetched on those days"
