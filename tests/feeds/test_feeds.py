from __future__ import annotations

import time

import pytest

from wirestance.feeds import FeedError, parse_feed, parse_news_sitemap, parse_rss

DOMAINS = ("aa.com.tr",)


def rss(items: str) -> bytes:
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>{items}</channel></rss>'.encode()


def atom(entries: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title>'
        f"<id>urn:x</id><updated>2019-11-26T10:00:00Z</updated>{entries}</feed>"
    ).encode()


def news_sitemap(urls: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>'
    ).encode()


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
    assert feed.capped is None


def test_atom_feed_alternate_links_times_and_categories():
    feed = parse_feed(
        atom(
            '<entry><title>S-400 talks</title><link rel="alternate" href="https://www.aa.com.tr/en/world/s-400/7"/>'
            "<id>tag:aa,7</id><published>2019-11-26T10:00:00+03:00</published><updated>2019-11-27T08:00:00Z</updated>"
            '<category term="World"/></entry>'
            '<entry><title>elsewhere</title><link href="https://evil.example.net/x"/><id>tag:x</id>'
            "<updated>2019-11-26T10:00:00Z</updated></entry>"
        ),
        "https://www.aa.com.tr/atom",
        DOMAINS,
    )
    [item] = feed.items
    assert item.url == "https://www.aa.com.tr/en/world/s-400/7"
    assert item.published is not None and item.published.isoformat() == "2019-11-26T10:00:00+03:00"
    assert item.category == "World"
    assert feed.rejected == [("https://evil.example.net/x", "link is outside the source's domains ['aa.com.tr']")]


def test_feed_pointing_only_outside_is_refused():
    with pytest.raises(FeedError, match="every item was refused"):
        parse_rss(rss("<item><link>https://evil.example.net/x/1</link></item>"), "f", DOMAINS)
    with pytest.raises(FeedError, match="every item was refused"):
        parse_feed(atom('<entry><link href="https://evil.example.net/x"/><id>i</id></entry>'), "f", DOMAINS)


BOMB_DTD = (
    b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
)


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?>' + BOMB_DTD + b"<rss><channel><item><title>&lol3;</title></item></channel></rss>",
        b'<?xml version="1.0"?>' + BOMB_DTD + b'<feed xmlns="http://www.w3.org/2005/Atom"><title>&lol3;</title></feed>',
        # An external entity, declared after a long prologue (past any first-bytes sniffing).
        b'<?xml version="1.0"?>' + b"<!-- " + b"x" * 10000 + b" -->"
        b'<!DOCTYPE rss [<!ENTITY ext SYSTEM "file:///etc/passwd">]><rss><channel><item><title>&ext;</title>'
        b"</item></channel></rss>",
    ],
)
def test_entities_are_refused_without_expanding(body: bytes):
    with pytest.raises(FeedError, match="declares a DTD with entities; refused"):
        parse_feed(body, "https://www.aa.com.tr/feed", DOMAINS)


def test_news_sitemap_with_entities_is_refused():
    body = b'<?xml version="1.0"?>' + BOMB_DTD + news_sitemap("<url><loc>&lol3;</loc></url>")[21:]
    with pytest.raises(FeedError, match="entities"):
        parse_news_sitemap(body, "https://www.aa.com.tr/news.xml", DOMAINS)


def test_a_feed_of_a_million_items_is_capped_quickly_with_the_reason():
    item = b"<item><title>t</title><link>https://www.aa.com.tr/en/world/a/1</link></item>"
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>' + item * 1_000_000
    started = time.perf_counter()
    feed = parse_feed(body, "https://www.aa.com.tr/feed", DOMAINS, max_items=100)
    assert time.perf_counter() - started < 20  # the cap comes before the parse: 100 items are parsed, not 10**6
    assert len(feed.items) == 100
    assert feed.capped == "lists 1000000 items; read the first 100 (the cap), left 999900"


def test_atom_feed_over_the_cap_is_cut_and_still_parses():
    entry = b'<entry><title>t</title><link href="https://www.aa.com.tr/en/world/a/2"/><id>i</id></entry>'
    body = atom("").replace(b"</feed>", entry * 50 + b"</feed>")
    feed = parse_feed(body, "https://www.aa.com.tr/atom", DOMAINS, max_items=10)
    assert len(feed.items) == 10
    assert feed.capped is not None and "lists 50 items" in feed.capped


def test_news_sitemap_items_publication_times_and_refusals():
    body = news_sitemap(
        "<url><loc>https://www.aa.com.tr/en/politics/s-400/3</loc><news:news><news:publication>"
        "<news:name>AA</news:name><news:language>en</news:language></news:publication>"
        "<news:publication_date>2019-11-26T10:31:00+03:00</news:publication_date>"
        "<news:title>S-400</news:title></news:news></url>"
        "<url><loc>https://evil.example.net/b</loc></url>"
    )
    feed = parse_news_sitemap(body, "https://www.aa.com.tr/news.xml", DOMAINS)
    [item] = feed.items
    assert item.url == "https://www.aa.com.tr/en/politics/s-400/3"
    assert item.title == "S-400"
    assert item.published is not None and item.published.isoformat() == "2019-11-26T10:31:00+03:00"
    assert feed.rejected == [("https://evil.example.net/b", "link is outside the source's domains ['aa.com.tr']")]


def test_news_sitemap_over_the_cap():
    url = b"<url><loc>https://www.aa.com.tr/en/world/a/1</loc></url>"
    body = news_sitemap("").replace(b"</urlset>", url * 30 + b"</urlset>")
    feed = parse_news_sitemap(body, "https://www.aa.com.tr/news.xml", DOMAINS, max_items=5)
    assert len(feed.items) == 5 and feed.capped is not None and "lists 30 items" in feed.capped


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<rss><channel><item>", "malformed XML"),
        (b"", "empty feed"),
        (b"<html><body>not a feed</body></html>", "not an RSS 2.0 or Atom feed"),
    ],
)
def test_malformed_feeds_are_refused_with_the_reason(body, reason):
    with pytest.raises(FeedError, match=reason) as info:
        parse_rss(body, "https://www.aa.com.tr/en/rss/default?cat=world", DOMAINS)
    assert "cat=world" in str(info.value)


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"<urlset><url>", "malformed XML"), (b"<sitemapindex/>", "not a news sitemap"), (b" ", "empty sitemap")],
)
def test_malformed_news_sitemaps_are_refused(body, reason):
    with pytest.raises(FeedError, match=reason):
        parse_news_sitemap(body, "https://www.aa.com.tr/news.xml", DOMAINS)
