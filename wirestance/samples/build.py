"""Regenerate the offline replay of aa.com.tr/en from its articles.json.

    python -m wirestance.samples.build [--site data/samples/anadolu_en]

articles.json is the source of truth; everything else in the site directory is written from it:
pages/<id>.html, the per-category RSS feeds, robots.txt, a section index page, a 404 page and
manifest.json (which URL path is served from which file, for `wirestance demo`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

from wirestance.samples.render import (
    ORIGIN,
    category_slug,
    render_article,
    render_category_index,
    render_not_found,
)
from wirestance.settings import Settings

SITE_NAME = "anadolu_en"
FEED_CATEGORIES = {"politics": "Politics", "world": "World", "turkiye": "Türkiye"}
INDEX_CATEGORY = "politics"
HTML = "text/html; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
ROBOTS_TXT = "User-agent: *\nAllow: /en/\nDisallow: /en/search/\n"


def default_site_dir() -> Path:
    return Path(Settings.from_env().samples_dir) / SITE_NAME


def load_specs(site_dir: Path) -> list[dict[str, Any]]:
    specs: list[dict[str, Any]] = json.loads((site_dir / "articles.json").read_text(encoding="utf-8"))
    return specs


def _newest_first(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(specs, key=lambda spec: (datetime.fromisoformat(spec["published"]), spec["id"]), reverse=True)


def render_feed(specs: list[dict[str, Any]], slug: str, name: str) -> str:
    """RSS 2.0 for one section, newest first; lastBuildDate is the newest item's, so builds are stable."""
    items = _newest_first([spec for spec in specs if category_slug(spec) == slug])
    rss = ElementTree.Element("rss", version="2.0")
    channel = ElementTree.SubElement(rss, "channel")
    for tag, text in (
        ("title", f"Anadolu Ajansı - {name}"),
        ("link", f"{ORIGIN}/en/{slug}"),
        ("description", f"Anadolu Agency {name} news"),
        ("language", "en"),
    ):
        ElementTree.SubElement(channel, tag).text = text
    if items:
        newest = datetime.fromisoformat(items[0]["published"])
        ElementTree.SubElement(channel, "lastBuildDate").text = format_datetime(newest)
    for spec in items:
        item = ElementTree.SubElement(channel, "item")
        ElementTree.SubElement(item, "title").text = spec["title"]
        ElementTree.SubElement(item, "link").text = spec["url"]
        ElementTree.SubElement(item, "guid", isPermaLink="true").text = spec["url"]
        ElementTree.SubElement(item, "pubDate").text = format_datetime(datetime.fromisoformat(spec["published"]))
        ElementTree.SubElement(item, "description").text = spec.get("lede") or ""
    ElementTree.indent(rss)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(rss, encoding="unicode") + "\n"


def _route(path: str, file: str, content_type: str) -> dict[str, str]:
    return {"path": path, "file": file, "content_type": content_type}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="")


def build_site(site_dir: Path) -> dict[str, Any]:
    """Write pages, feeds, robots.txt and manifest.json from articles.json; return the manifest."""
    specs = load_specs(site_dir)
    routes: list[dict[str, str]] = [_route("/robots.txt", "robots.txt", "text/plain; charset=utf-8")]
    _write(site_dir / "robots.txt", ROBOTS_TXT)

    feeds: set[str] = set()
    for slug, name in FEED_CATEGORIES.items():
        file = f"feeds/{slug}.xml"
        _write(site_dir / file, render_feed(specs, slug, name))
        routes.append(_route(f"/en/rss/default?cat={slug}", file, RSS))
        feeds.add(file)

    pages: set[str] = set()
    index_specs = _newest_first([spec for spec in specs if category_slug(spec) == INDEX_CATEGORY])
    index_file = f"pages/index-{INDEX_CATEGORY}.html"
    _write(site_dir / index_file, render_category_index(index_specs, INDEX_CATEGORY, FEED_CATEGORIES[INDEX_CATEGORY]))
    routes.append(_route(f"/en/{INDEX_CATEGORY}", index_file, HTML))
    not_found_file = "pages/not-found.html"
    _write(site_dir / not_found_file, render_not_found())
    pages.update({index_file, not_found_file})

    for spec in specs:
        file = f"pages/{spec['id']}.html"
        _write(site_dir / file, render_article(spec, spec["layout"]))
        routes.append(_route(urlsplit(spec["url"]).path, file, HTML))
        pages.add(file)

    # Articles removed from articles.json must not linger as servable files.
    for stale in (site_dir / "pages").glob("*.html"):
        if f"pages/{stale.name}" not in pages:
            stale.unlink()
    for stale in (site_dir / "feeds").glob("*.xml"):
        if f"feeds/{stale.name}" not in feeds:
            stale.unlink()

    manifest = {
        "origin": ORIGIN,
        "routes": routes,
        # Served with status 404 for any path not in routes.
        "not_found": {"file": not_found_file, "content_type": HTML, "status": 404},
    }
    _write(site_dir / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wirestance.samples.build", description=__doc__.split("\n")[0])
    parser.add_argument("--site", type=Path, default=None, help=f"site directory (default: <samples_dir>/{SITE_NAME})")
    args = parser.parse_args(argv)
    site_dir: Path = args.site or default_site_dir()
    if not (site_dir / "articles.json").is_file():
        print(f"no articles.json in {site_dir}", file=sys.stderr)
        return 2
    manifest = build_site(site_dir)
    articles = len(load_specs(site_dir))
    print(f"{site_dir}: {articles} article pages, {len(FEED_CATEGORIES)} feeds, {len(manifest['routes'])} routes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
