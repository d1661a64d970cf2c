from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from wirestance.replay import ReplayServer, ReplaySite
from wirestance.settings import Settings

PAGE = "<html><head><meta charset='utf-8'></head><body><p>Türkiye’de şarj — ünlü</p></body></html>"
FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>t</title>
<item><title>One</title><link>https://www.aa.com.tr/en/politics/one/1</link>
<pubDate>Tue, 26 Nov 2019 10:00:00 +0300</pubDate></item>
<item><title>Off</title><link>https://evil.example.net/en/politics/off/2</link></item>
</channel></rss>"""


@pytest.fixture
def tiny_site(tmp_path: Path) -> ReplaySite:
    (tmp_path / "page.html").write_text(PAGE, encoding="utf-8")
    (tmp_path / "feed.xml").write_text(FEED, encoding="utf-8")
    (tmp_path / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n", encoding="utf-8")
    (tmp_path / "manifest.json").write_text(
        json.dumps(
            {
                "origin": "https://www.aa.com.tr",
                "routes": [
                    {"path": "/page", "file": "page.html", "content_type": "text/html; charset=utf-8"},
                    {"path": "/private/x", "file": "page.html", "content_type": "text/html; charset=utf-8"},
                    {"path": "/feed?cat=a", "file": "feed.xml", "content_type": "application/rss+xml"},
                    {"path": "/robots.txt", "file": "robots.txt", "content_type": "text/plain"},
                ],
            }
        )
    )
    return ReplaySite(tmp_path)


@pytest.fixture
def server(tiny_site: ReplaySite) -> Iterator[ReplayServer]:
    with ReplayServer(tiny_site, slow_seconds=1.5) as srv:
        yield srv


@pytest.fixture
def fast_settings(tmp_path: Path) -> Settings:
    return Settings(
        lake_url=str(tmp_path / "lake"),
        per_host_delay=0.0,
        timeout=0.5,
        max_attempts=3,
        backoff_base=0.01,
        max_body_bytes=1_000_000,
    )
