"""Regenerate the offline replays of apnews.com and reuters.com from their articles.json.

    python -m wirestance.samples.wires [--samples data/samples]

The articles are ours (short reports on the S-400 dispute, written for the demo); the pages put them in
each agency's real article template as it is served today (AP's Brightspot RichTextStoryBody page,
Reuters' Arc page with data-testid paragraphs), with the furniture a parser must leave out: AP's "___"
credit trailer and related-story boxes, Reuters' sign-off and newsletter prompt. Each site lists its
articles in a Google News sitemap, as the agencies do.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from wirestance.settings import Settings

HTML = "text/html; charset=utf-8"
XML = "application/xml; charset=utf-8"
ROBOTS_TXT = "User-agent: *\nAllow: /\n"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"


def _stamp(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC) if value else None


def _iso_z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- AP ---------------------------------------------------------------------------------------------


def ap_url(spec: dict[str, Any]) -> str:
    story_id = hashlib.md5(spec["slug"].encode()).hexdigest()
    return f"https://apnews.com/article/{spec['slug']}-{story_id}"


def render_ap(spec: dict[str, Any]) -> str:
    url = ap_url(spec)
    published = _stamp(spec["published"])
    updated = _stamp(spec.get("updated"))
    assert published is not None
    ld = {
        "@context": "http://schema.org",
        "@type": "NewsArticle",
        "url": url,
        "datePublished": _iso_z(published),
        "dateModified": _iso_z(updated or published),
        "headline": spec["title"],
        "description": spec["description"],
        "author": [{"@type": "Person", "name": name.upper()} for name in spec["authors"]],
        "publisher": {"@type": "Organization", "name": "AP News"},
        "articleSection": [spec["section"]],
        "keywords": spec["tags"],
    }
    # The article: meta tags of this template carry UTC without its "Z".
    metas = [
        ("og:title", spec["title"]),
        ("og:url", url),
        ("og:description", spec["description"]),
        ("og:site_name", "AP News"),
        ("og:type", "article"),
        ("article:published_time", published.strftime("%Y-%m-%dT%H:%M:%S")),
        *([("article:modified_time", updated.strftime("%Y-%m-%dT%H:%M:%S.000"))] if updated else []),
        ("article:section", spec["section"]),
        *[("article:tag", tag) for tag in spec["tags"]],
    ]
    names = [f'<span class="Link">{escape(name.upper())}</span>' for name in spec["authors"]]
    byline = "By&nbsp;" + " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
    paragraphs = "".join(f"<p>{escape(text)}</p>" for text in spec["paragraphs"])
    # A related-story box sits among the paragraphs, as on apnews.com.
    middle = paragraphs.find("</p>", paragraphs.find("</p>") + 1) + 4
    related = (
        '<div class="Enhancement" data-align-center><div class="PagePromo" data-gtm-region="Related">'
        '<div class="PagePromo-title"><a class="Link" href="https://apnews.com/hub/turkey">'
        "<span>More on Turkey and NATO</span></a></div></div></div>"
    )
    body = paragraphs[:middle] + related + paragraphs[middle:]
    meta_html = "\n".join(f'<meta property="{k}" content="{escape(v)}">' for k, v in metas)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<title>{escape(spec["title"])} | AP News</title>
<link rel="canonical" href="{url}">
{meta_html}
<meta name="description" content="{escape(spec["description"])}">
<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>
</head>
<body class="StoryPage">
<bsp-header class="Page-header"><nav class="Page-header-navigation"><a class="Link" href="https://apnews.com/world-news">World</a>
<a class="Link" href="https://apnews.com/politics">Politics</a></nav></bsp-header>
<main class="Page-main">
<div class="Page-lead"><div class="Page-breadcrumbs"><a class="Link" href="https://apnews.com/world-news">{escape(spec["section"])}</a></div></div>
<div class="Page-storyBody">
<div class="Page-headline-wrapper"><h1 class="Page-headline">{escape(spec["title"])}</h1></div>
<div class="Page-byline"><div class="Page-authors">{byline}</div>
<div class="Page-dateModified"><bsp-timestamp data-timestamp="{int((updated or published).timestamp() * 1000)}">
<template data-date-tpl="">Updated [hour]:[minute] [AMPM] [timezone], [monthFull] [day], [year]</template>
<span data-date="">&nbsp;</span>
</bsp-timestamp></div></div>
<figure class="Figure"><picture><img alt="Photo" src="https://apnews.com/img.jpg"></picture>
<figcaption class="Figure-caption"><p>FILE - An archive photo. (AP Photo, File)</p></figcaption></figure>
<div class="RichTextStoryBody RichTextBody">{body}</div>
<div class="Page-below"><div class="PageListStandardE"><h2 class="PageList-header-title">Most read</h2></div></div>
</div>
</main>
<footer class="Page-footer"><p>Copyright 2019 The Associated Press. All Rights Reserved.</p></footer>
</body>
</html>
"""


# --- Reuters ----------------------------------------------------------------------------------------


def reuters_url(spec: dict[str, Any]) -> str:
    return f"https://www.reuters.com/{spec['slug']}/"


def render_reuters(spec: dict[str, Any]) -> str:
    url = reuters_url(spec)
    published = _stamp(spec["published"])
    updated = _stamp(spec.get("updated"))
    assert published is not None
    metas = [
        ("property", "og:title", spec["title"]),
        ("property", "og:type", "article"),
        ("property", "og:url", url),
        ("property", "og:description", spec["description"]),
        ("property", "og:site_name", "Reuters"),
        ("name", "article:published_time", _iso_z(published)),
        *([("name", "article:modified_time", _iso_z(updated))] if updated else []),
        ("name", "article:author", ", ".join(spec["authors"])),
        ("name", "article:section", spec["section"]),
        ("name", "article:tag", "RULES:TURKEY-SECURITY,GEN,POL,DEF"),
        ("name", "DCSext.ChannelList", "".join(f"{c};" for c in spec["channels"])),
        ("name", "news_keywords", ";".join(spec["keywords"])),
        ("property", "og:article:published_time", _iso_z(published)),
    ]
    meta_html = "\n".join(f'<meta {a}="{k}" content="{escape(v)}">' for a, k, v in metas)
    paragraphs = "".join(
        f'<div data-testid="paragraph-{i}" class="text__text__1FZLe article-body__paragraph__2-BtD">'
        f"{escape(text)}</div>"
        for i, text in enumerate(spec["paragraphs"])
    )
    authors = " and ".join(
        f'<a rel="author" href="https://www.reuters.com/authors/x/">{escape(n)}</a>' for n in spec["authors"]
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{escape(spec["title"])} | Reuters</title>
<link rel="canonical" href="{url}">
{meta_html}
</head>
<body>
<div id="fusion-app">
<header class="site-header"><nav><a href="https://www.reuters.com/world/">World</a><a href="https://www.reuters.com/business/">Business</a></nav></header>
<main id="main-content">
<article class="article__container__2-LRd">
<nav class="article-header__breadcrumbs"><a href="https://www.reuters.com/world/middle-east/">{escape(spec["section"])}</a></nav>
<h1 data-testid="Heading" class="text__heading_3__1kDhc">{escape(spec["title"])}</h1>
<div class="info-content__author-date__1Epi_"><div data-testid="AuthorByline">By {authors}</div>
<time data-testid="Body" class="info-content__dateline__1xZog">
<span class="date-line__date___kNbY">{published:%B %-d, %Y}</span>
<span class="date-line__date___kNbY">{published:%-I:%M %p} UTC</span></time></div>
<figure><img src="https://www.reuters.com/resizer/photo.jpg" alt="">
<figcaption data-testid="Caption">A file photo. REUTERS/Staff/File Photo
<a href="https://www.reuters.com/">Purchase Licensing Rights</a></figcaption></figure>
<div class="article-body__content__17Yit">{paragraphs}
<div data-testid="promo-box" class="article-body__element__2p5pI">
<p>Sign up here for our daily Middle East briefing.</p></div>
<p data-testid="Body" class="sign-off__text">
Reporting by {escape(", ".join(spec["authors"]))}; Editing by Desk Editor</p>
<p class="trust-badge">Our Standards:
<a href="https://www.thomsonreuters.com/en/about-us/trust-principles.html">The Thomson Reuters Trust Principles.</a></p>
</div>
</article>
</main>
<footer class="site-footer">All quotes delayed a minimum of 15 minutes.</footer>
</div>
</body>
</html>
"""


# --- the sites --------------------------------------------------------------------------------------


def render_news_sitemap(specs: list[dict[str, Any]], url_of: Callable[[dict[str, Any]], str], name: str) -> str:
    """A Google News sitemap listing every article, newest first."""
    ElementTree.register_namespace("", "http://www.sitemaps.org/schemas/sitemap/0.9")
    ElementTree.register_namespace("news", NEWS_NS)
    root = ElementTree.Element("{http://www.sitemaps.org/schemas/sitemap/0.9}urlset")
    for spec in sorted(specs, key=lambda s: s["published"], reverse=True):
        node = ElementTree.SubElement(root, "{http://www.sitemaps.org/schemas/sitemap/0.9}url")
        ElementTree.SubElement(node, "{http://www.sitemaps.org/schemas/sitemap/0.9}loc").text = url_of(spec)
        news = ElementTree.SubElement(node, f"{{{NEWS_NS}}}news")
        publication = ElementTree.SubElement(news, f"{{{NEWS_NS}}}publication")
        ElementTree.SubElement(publication, f"{{{NEWS_NS}}}name").text = name
        ElementTree.SubElement(publication, f"{{{NEWS_NS}}}language").text = "en"
        ElementTree.SubElement(news, f"{{{NEWS_NS}}}publication_date").text = spec["published"]
        ElementTree.SubElement(news, f"{{{NEWS_NS}}}title").text = spec["title"]
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"


#: folder -> (source, origin, agency name, news sitemap path, url of an article, page renderer)
SITES: dict[str, tuple[str, str, str, str, Callable[[dict[str, Any]], str], Callable[[dict[str, Any]], str]]] = {
    "ap_en": ("ap", "https://apnews.com", "Associated Press", "/news-sitemap-content.xml", ap_url, render_ap),
    "reuters_en": (
        "reuters",
        "https://www.reuters.com",
        "Reuters",
        "/arc/outboundfeeds/news-sitemap/?outputType=xml",
        reuters_url,
        render_reuters,
    ),
}


def build_site(site_dir: Path) -> dict[str, Any]:
    source, origin, name, sitemap_path, url_of, render = SITES[site_dir.name]
    specs: list[dict[str, Any]] = json.loads((site_dir / "articles.json").read_text(encoding="utf-8"))
    files: dict[str, str] = {"robots.txt": ROBOTS_TXT, "news-sitemap.xml": render_news_sitemap(specs, url_of, name)}
    routes = [
        {"path": "/robots.txt", "file": "robots.txt", "content_type": "text/plain; charset=utf-8"},
        {"path": sitemap_path, "file": "news-sitemap.xml", "content_type": XML},
    ]
    for spec in specs:
        url = url_of(spec)
        file = f"pages/{url.rstrip('/').rsplit('/', 1)[-1]}.html"
        files[file] = render(spec)
        routes.append({"path": url.removeprefix(origin), "file": file, "content_type": HTML})
    for stale in (site_dir / "pages").glob("*.html"):
        if f"pages/{stale.name}" not in files:
            stale.unlink()
    for file, text in files.items():
        (site_dir / file).parent.mkdir(parents=True, exist_ok=True)
        (site_dir / file).write_text(text, encoding="utf-8", newline="")
    manifest = {"origin": origin, "source": source, "routes": routes}
    (site_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wirestance.samples.wires", description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=Path, default=None, help="samples folder (default: the samples_dir setting)")
    args = parser.parse_args(argv)
    samples: Path = args.samples or Path(Settings.from_env().samples_dir)
    for folder in SITES:
        manifest = build_site(samples / folder)
        print(f"{samples / folder}: {len(manifest['routes']) - 2} article pages, {len(manifest['routes'])} routes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
