from __future__ import annotations

import pytest

from wirestance.feeds import FeedError, parse_rss

DOMAINS = ("aa.com.tr",)


def rss(items: str) -> bytes:
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>{items}</channel></rss>'.encode()


def test_items_with_dates_and_off_domain_links_rejected_one_by_one():
    feed = parse_rss(
        rss(
            "<item><title>a</title><link>https://www.aa.com.tr/en/politics/a/1</link>"
            "<pubDate>Tue, 26 Nov 2019 10:00:00 +0300</pubDate><category>Politics</category></item>"
            "<item><title>b</title><link>https://evil.example.net/b/2</link></item>"
        ),
        "https://www.aa.com.tr/en/rss/default?cat=politics",
        DOMAINS,
    )
    assert [i.url for i in feed.items] == ["https://www.aa.com.tr/en/politics/a/1"]
    assert feed.items[0].published is not None and feed.items[0].published.isoformat() == "2019-11-26T10:00:00+03:00"
    assert feed.items[0].category == "Politics"
    assert feed.rejected == [("https://evil.example.net/b/2", "link is outside the source's domains ['aa.com.tr']")]


def test_feed_pointing_only_outside_is_refused():
    with pytest.raises(FeedError, match="every item was refused"):
        parse_rss(rss("<item><link>https://evil.example.net/x/1</link></item>"), "f", DOMAINS)


def test_entity_bomb_is_refused_without_expanding():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<rss><channel><item><title>&lol2;</title></item></channel></rss>"
    )
    with pytest.raises(FeedError, match="entities"):
        parse_rss(bomb, "https://www.aa.com.tr/feed", DOMAINS)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<rss><channel><item>", "malformed XML"),
        (b"", "empty feed"),
        (b"<html><body>not a feed</body></html>", "not an RSS 2.0 feed"),
    ],
)
def test_malformed_feeds_are_refused_with_the_reason(body, reason):
    with pytest.raises(FeedError, match=reason) as info:
        parse_rss(body, "https://www.aa.com.tr/en/rss/default?cat=world", DOMAINS)
    assert "cat=world" in str(info.value)
