"""Render article specs into pages built like aa.com.tr's two real templates.

A spec is one entry of `data/samples/anadolu_en/articles.json`: the article as the parser must return
it (id, url, category, title, lede, authors, published, updated, dateline, tags, paragraphs) plus
optional `subheadings` ({"<paragraph index>": "heading before it"}), `photo_caption` and `footnote`
(the disclaimer under analysis pieces, boilerplate the parser must drop). `topic` ("s400", or what else a
story is about) and `seed` (true for the project's seed article) are for readers and tests, not rendered.

Templates are split once into literal text and `{{slot}}` names, and a page is one join: the
benchmark renders up to 100,000 pages, so no template engine and no parsing per page.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from html import escape
from importlib.resources import files
from typing import Any, Literal
from urllib.parse import quote, quote_plus, urlsplit

from wirestance.parsing import ISTANBUL

Layout = Literal["legacy", "nextjs"]
LAYOUTS: tuple[Layout, ...] = ("legacy", "nextjs")
ORIGIN = "https://www.aa.com.tr"

_SLOT = re.compile(r"\{\{(\w+)\}\}")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# Headlines for the sidebar, "related news" and "latest" lists every real page carries: text a
# parser must not take for the article. Invented, and unrelated to any sample article.
_OTHER_HEADLINES = (
    ("turkiye", "Istanbul ferry services resume after storm warning is lifted", 1000101),
    ("world", "Foreign ministers meet in Geneva for talks on regional trade corridor", 1000102),
    ("economy", "Turkish exporters look to new markets in Central Asia", 1000103),
    ("sport", "Galatasaray prepare for European away fixture", 1000104),
    ("world", "Flood relief convoys reach villages cut off by landslides", 1000105),
    ("turkiye", "Archaeologists uncover Roman-era mosaic in southern Turkish province", 1000106),
)


@dataclass(frozen=True, slots=True)
class _Template:
    literals: tuple[str, ...]  # one more than slots: literal, slot, literal, ..., literal
    slots: tuple[str, ...]

    @classmethod
    def from_text(cls, text: str) -> _Template:
        pieces = _SLOT.split(text)
        return cls(literals=tuple(pieces[0::2]), slots=tuple(pieces[1::2]))

    def fill(self, values: dict[str, str]) -> str:
        out = [self.literals[0]]
        for slot, literal in zip(self.slots, self.literals[1:], strict=True):
            out.append(values[slot])
            out.append(literal)
        return "".join(out)


@lru_cache(maxsize=4)
def _template(layout: Layout) -> _Template:
    text = files("wirestance.samples").joinpath("templates", f"{layout}.html").read_text(encoding="utf-8")
    return _Template.from_text(text)


# --- small formatters --------------------------------------------------------------------------


def _local(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp).astimezone(ISTANBUL)


def _naive_local_iso(moment: datetime) -> str:
    """How the Next.js site prints times: Istanbul wall clock, milliseconds, no offset."""
    return moment.replace(tzinfo=None).isoformat(timespec="milliseconds")


def _long_date(moment: datetime) -> str:
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


def _script_json(value: Any) -> str:
    """JSON for inside a <script>: "</" would end the element early."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


def _js_string_body(text: str) -> str:
    """Text as the inside of a JS string literal, markup escaped the way Next.js flight data does."""
    return json.dumps(text, ensure_ascii=False)[1:-1].replace("<", "\\u003c").replace(">", "\\u003e")


def category_slug(spec: dict[str, Any]) -> str:
    """The section segment of the article URL (/en/<section>/<slug>/<id>)."""
    return urlsplit(spec["url"]).path.split("/")[2]


def _url_slug(spec: dict[str, Any]) -> str:
    return urlsplit(spec["url"]).path.split("/")[3]


def _image_url(spec: dict[str, Any], published: datetime, host: str) -> str:
    digest = hashlib.md5(str(spec["id"]).encode(), usedforsecurity=False).hexdigest()
    return f"https://{host}/uploads/Contents/{published:%Y/%m/%d}/thumbs_b_c_{digest}.jpg"


def _other_headlines(spec: dict[str, Any], count: int) -> list[tuple[str, str, str]]:
    """(url, title, section) of unrelated stories, rotated by article id so pages differ."""
    start = int(spec["id"]) % len(_OTHER_HEADLINES)
    picked = [_OTHER_HEADLINES[(start + k) % len(_OTHER_HEADLINES)] for k in range(count)]
    return [(f"{ORIGIN}/en/{section}/{_slugify(title)}/{number}", title, section) for section, title, number in picked]


def _slugify(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _footnote(spec: dict[str, Any]) -> str:
    footnote = spec.get("footnote")
    return f"<p><em>{escape(footnote)}</em></p>" if footnote else ""


def _subheadings(spec: dict[str, Any]) -> dict[int, str]:
    return {int(index): text for index, text in (spec.get("subheadings") or {}).items()}


# --- legacy template ---------------------------------------------------------------------------


def _legacy_body(spec: dict[str, Any], image_host_path: str) -> str:
    paragraphs: list[str] = spec["paragraphs"]
    headings = _subheadings(spec)
    parts: list[str] = []
    for index, text in enumerate(paragraphs):
        if index in headings:
            parts.append(f"<h3>{escape(headings[index])}</h3>")
        parts.append(f"<p>{escape(text)}</p>")
        if index == 1 and len(paragraphs) >= 5:
            # Inline photos sit in a <p> of their own: an empty paragraph for the parser.
            parts.append(f'<p><img alt="" src="{image_host_path}" /></p>')
    parts.append(_footnote(spec))
    return "".join(parts)


def _legacy_tags(tags: list[str]) -> str:
    if not tags:
        return ""
    links = "\n".join(
        f'                                            <a href="{ORIGIN}/en/search/?s={quote_plus(tag)}&tag=1"'
        f' class="btn btn-outline-secondary">{escape(tag)}</a>'
        for tag in tags
    )
    return (
        "                            <h6>Related topics</h6>\n"
        f"                            <div>\n{links}\n\n                            </div>\n"
    )


def _legacy_sidebar(spec: dict[str, Any]) -> str:
    return "\n".join(
        f'                <a href="{url}">\n'
        f'                        <h6 style="font-size:.9rem">{escape(title)}</h6>\n'
        "                </a>\n                    <hr />"
        for url, title, _ in _other_headlines(spec, 4)
    )


def _legacy_related(spec: dict[str, Any], image: str) -> str:
    # Like the real page, the list starts with the article itself, then similar stories.
    title = escape(spec["title"])
    items = [
        '                                <div class="col-md-6 borderR p-0">\n'
        f'                                    <a href="{spec["url"]}"><img class="img-responsive m-0 p-0 w-100"'
        f' alt="{title}" src="{image}" ></a>\n'
        f'                                    <h2><span class="foto-manset"><a href="{spec["url"]}"> {title}</a>'
        "</span></h2>\n                                </div>"
    ]
    for url, other, _ in _other_headlines(spec, 2):
        items.append(
            '                                <div class="col-sm-6 col-md-3 borderR p-0">\n'
            f'                                    <a href="{url}"><h4>\n'
            f"                                            {escape(other)}\n"
            "                                        </h4></a>\n                                </div>"
        )
    return "\n".join(items)


def _render_legacy(spec: dict[str, Any]) -> str:
    published = _local(spec["published"])
    updated = _local(spec["updated"]) if spec.get("updated") else published
    image = _image_url(spec, published, "cdnuploads.aa.com.tr")
    inline_image = f"/uploads/userFiles/{hashlib.md5(spec['url'].encode(), usedforsecurity=False).hexdigest()}.jpg"
    authors = ", ".join(spec.get("authors") or [])
    byline = (
        f'{" " * 28}<span style="float:left;    padding-right: 15px;">{escape(authors)} &nbsp;|</span>\n'
        if authors
        else ""
    )
    slug = category_slug(spec)
    values = {
        "title": escape(spec["title"]),
        "description": escape(spec.get("lede") or ""),
        "keywords": escape(",".join([*spec.get("tags", []), "Anadolu Agency"])),
        "canonical": spec["url"],
        "image": image,
        "category_href": f"{ORIGIN}/en/{slug}",
        "category_slug": slug,
        "category": escape(spec["category"]),
        "lede": escape(spec.get("lede") or ""),
        "byline": byline,
        "dates": f"{published:%d.%m.%Y} - Update : {updated:%d.%m.%Y}",
        "photo_credit": escape(spec.get("photo_caption") or ""),
        "id": str(spec["id"]),
        "title_query": quote_plus(spec["title"]),
        "dateline": escape(spec.get("dateline") or ""),
        "body": _legacy_body(spec, inline_image),
        "tags": _legacy_tags(spec.get("tags") or []),
        "sidebar": _legacy_sidebar(spec),
        "related": _legacy_related(spec, image),
        "year": str(published.year),
    }
    return _template("legacy").fill(values)


# --- Next.js template --------------------------------------------------------------------------


def _nextjs_body(spec: dict[str, Any], published: datetime) -> str:
    paragraphs: list[str] = spec["paragraphs"]
    headings = _subheadings(spec)
    caption = escape(spec.get("photo_caption") or "Photo : Anadolu Agency")
    digest = hashlib.md5(spec["url"].encode(), usedforsecurity=False).hexdigest()
    photo = f"https://web-cdnprod.aa.com.tr/uploads/Contents/{published:%Y/%m/%d}/{digest}.jpg"
    parts: list[str] = []
    for index, text in enumerate(paragraphs):
        if index in headings:
            parts.append(f"<h2>{escape(headings[index])}</h2>")
        if index == len(paragraphs) - 2 and len(paragraphs) >= 8:
            parts.append(f'<p><img src="{photo}?v=2" width="1200" height="800"/></p>')
        parts.append(f"<p>{escape(text)}</p>")
        if index == 1 and len(paragraphs) >= 4:
            # Photo with its caption, then the empty paragraph the site's editor leaves behind.
            parts.append(
                f'<figure class="image"><img style="aspect-ratio:1200/800;" src="{photo}" width="1200"'
                f' height="800"/><figcaption style="text-align:left;">{caption}</figcaption></figure><p> </p>'
            )
    parts.append(_footnote(spec))
    return "".join(parts)


def _nextjs_tags(tags: list[str]) -> str:
    if not tags:
        return ""
    links = "".join(
        '<a class="px-4 py-2 border caustenRegular rounded-full text-[15px] transition-colors border-borderColor'
        f' text-shareNewsTextColor hover:bg-gray-200" href="/en/search?s={quote(tag)}&amp;tag=1">{escape(tag)}</a>'
        for tag in tags
    )
    return (
        '<section class="flex flex-row gap-4 py-4 items-center"><span class="flex-shrink-0 caustenBlack'
        ' text-[15px] text-[#0031A7]">Related Topics<!-- -->:</span><div class="flex flex-wrap gap-1 md:gap-2">'
        f"{links}</div></section>"
    )


def _nextjs_prev_next(spec: dict[str, Any]) -> str:
    (prev_url, prev_title, _), (next_url, next_title, _) = _other_headlines(spec, 2)
    return (
        '<div class="w-full relative p-4 border-t border-borderColor bg-background"><div class="hidden md:grid'
        ' md:grid-cols-2 gap-4 w-full mb-4"><div class="flex justify-start"><span class="caustenRegular'
        ' text-[16px]">Previous</span></div><div class="flex justify-end"><span class="caustenRegular'
        ' text-[16px]">Next</span></div></div><div class="flex flex-col md:grid md:grid-cols-2 gap-0 w-full">'
        f'<a class="flex-1 hover:underline" href="{urlsplit(prev_url).path}"><h3 class="caustenSemi'
        f' text-[20px]">{escape(prev_title)}</h3></a><a class="flex-1 hover:underline text-right"'
        f' href="{urlsplit(next_url).path}"><h3 class="caustenSemi text-[20px] text-right">{escape(next_title)}'
        "</h3></a></div></div>"
    )


def _nextjs_latest(spec: dict[str, Any]) -> tuple[str, str]:
    """The "latest" sidebar as markup and as the flight data the page also ships it in."""
    items = _other_headlines(spec, 5)
    markup = "".join(
        '<div class="group flex gap-2"><div class="flex-1 min-w-0"><h3 class="caustenMedium text-[16px]'
        f' text-descriptionColor mt-1"><a class="hover:underline" data-track-event="news-card"'
        f' data-track-title="{escape(title)}" data-track-position="{position}" data-track-list-type="timeline"'
        f' href="{urlsplit(url).path}">{escape(title)}</a></h3></div></div>'
        for position, (url, title, _) in enumerate(items, start=1)
    )
    data = [
        {"title": title, "description": title, "routeLink": urlsplit(url).path[4:], "showAtLastNews": 1}
        for url, title, _ in items
    ]
    return markup, _js_string_body(json.dumps(data, ensure_ascii=False))


def _nextjs_json_ld(spec: dict[str, Any], published: datetime, updated: datetime, image: str) -> dict[str, Any]:
    authors = [{"@type": "Person", "name": name} for name in spec.get("authors") or []]
    article: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": spec["title"],
        "description": spec.get("lede") or "",
        "image": [image],
        "datePublished": _naive_local_iso(published),
        "dateModified": _naive_local_iso(updated),
    }
    if authors:
        article["author"] = authors[0] if len(authors) == 1 else authors
    article.update(
        {
            "publisher": {
                "@type": "NewsMediaOrganization",
                "name": "Anadolu Ajansı",
                "url": ORIGIN,
                "logo": {"@type": "ImageObject", "url": f"{ORIGIN}/images/aa_logo.png"},
            },
            "mainEntityOfPage": {"@type": "WebPage", "@id": spec["url"]},
            "articleBody": spec.get("lede") or "",
            "articleSection": spec["category"],
            "keywords": ", ".join(spec.get("tags") or []),
            "inLanguage": "en",
        }
    )
    if spec.get("dateline"):
        article["contentLocation"] = {"@type": "Place", "name": spec["dateline"]}
    return article


def _render_nextjs(spec: dict[str, Any]) -> str:
    published = _local(spec["published"])
    updated = _local(spec["updated"]) if spec.get("updated") else published
    image = _image_url(spec, published, "web-cdnprod.aa.com.tr")
    slug = category_slug(spec)
    article_ld = _nextjs_json_ld(spec, published, updated, image)
    breadcrumb_ld = {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": 1, "name": "home", "item": f"{ORIGIN}/en"},
            {"@type": "ListItem", "position": 2, "name": spec["category"], "item": f"{ORIGIN}/en/{slug}"},
            {"@type": "ListItem", "position": 3, "name": spec["title"], "item": spec["url"]},
        ],
    }
    authors = ", ".join(spec.get("authors") or [])
    body = _nextjs_body(spec, published)
    latest_markup, latest_flight = _nextjs_latest(spec)
    # The site's article:published_time meta carries the last re-publish, not the first publication.
    republished = _naive_local_iso(updated)
    values = {
        "lang": "en",
        "title": escape(spec["title"]),
        "description": escape(spec.get("lede") or ""),
        "keywords": escape(", ".join(spec.get("tags") or [])),
        "canonical": spec["url"],
        "og_locale": "en_US",
        "image": image,
        "published_meta": republished,
        "modified_meta": republished,
        "category": escape(spec["category"]),
        "tag_metas": "".join(
            f'<meta property="article:tag" content="{escape(tag)}"/>' for tag in spec.get("tags") or []
        ),
        "article_json_ld": _script_json(article_ld),
        "breadcrumb_json_ld": _script_json(breadcrumb_ld),
        "category_slug": slug,
        "lede": escape(spec.get("lede") or ""),
        "byline": (
            f'<div class="flex items-center gap-2"><span class="caustenMedium text-base">{escape(authors)}</span></div>'
            if authors
            else ""
        ),
        "date_display": _long_date(published),
        "update_display": _long_date(updated),
        "dateline": escape(spec.get("dateline") or ""),
        "body": body,
        "tags_block": _nextjs_tags(spec.get("tags") or []),
        "title_query": quote_plus(spec["title"]),
        "prev_next": _nextjs_prev_next(spec),
        "latest": latest_markup,
        "year": str(published.year),
        "slug": _url_slug(spec),
        "id": str(spec["id"]),
        "flight_json_ld": _js_string_body(_script_json(article_ld)),
        "flight_body": _js_string_body(body),
        "flight_latest": latest_flight,
    }
    return _template("nextjs").fill(values)


def render_article(article_spec: dict[str, Any], layout: Layout) -> str:
    """The HTML page of one article spec in the given aa.com.tr layout."""
    if layout == "legacy":
        return _render_legacy(article_spec)
    if layout == "nextjs":
        return _render_nextjs(article_spec)
    raise ValueError(f"unknown layout {layout!r}; expected one of {', '.join(LAYOUTS)}")


# --- pages that are not articles ---------------------------------------------------------------

_NEXT_HEAD = (
    '<!DOCTYPE html><html lang="en" dir="ltr"><head><meta charSet="utf-8"/>'
    '<meta name="viewport" content="width=device-width, initial-scale=1"/>'
    '<link rel="stylesheet" href="/_next/static/chunks/cbad5537562ec400.css" data-precedence="next"/>'
    '<script src="/_next/static/chunks/d598f1f652e2d146.js" async=""></script>'
    '<meta name="next-size-adjust" content=""/>'
)


def render_category_index(specs: list[dict[str, Any]], slug: str, name: str) -> str:
    """A section front page (/en/<slug>) in the Next.js layout: headlines and ledes, no article body."""
    cards = "".join(
        '<article class="flex flex-col gap-2 p-4 border-b border-borderColor">'
        f'<a href="{urlsplit(spec["url"]).path}"><h3 class="caustenSemi text-[20px]">{escape(spec["title"])}</h3></a>'
        f'<p class="lora text-descriptionColor">{escape(spec.get("lede") or "")}</p></article>'
        for spec in specs
    )
    listing = {
        "@context": "https://schema.org",
        "@type": "CollectionPage",
        "name": name,
        "url": f"{ORIGIN}/en/{slug}",
        "mainEntity": {
            "@type": "ItemList",
            "itemListElement": [
                {"@type": "ListItem", "position": n, "url": spec["url"]} for n, spec in enumerate(specs, start=1)
            ],
        },
    }
    return (
        f"{_NEXT_HEAD}<title>{escape(name)} - Anadolu Ajansı</title>"
        f'<link rel="canonical" href="{ORIGIN}/en/{slug}"/><meta property="og:type" content="website"/>'
        f'<meta property="og:title" content="{escape(name)}"/></head><body>'
        f'<div hidden id="S:4"><div class="min-h-screen flex flex-col "><script type="application/ld+json">'
        f'{_script_json(listing)}</script><main id="main-content" class="flex-1"><section class="container">'
        f'<h1 class="caustenBlack text-[32px] uppercase">{escape(name)}</h1>{cards}</section></main>'
        '<footer><p>Anadolu Agency © 2026</p></footer></div></div><script>$RC("B:4","S:4")</script></body></html>'
    )


def render_not_found() -> str:
    """The site's 404 page (Next.js)."""
    return (
        f"{_NEXT_HEAD}<title>404: This page could not be found. - Anadolu Ajansı</title>"
        '<meta name="robots" content="noindex"/></head><body><div hidden id="S:4"><div class="min-h-screen flex'
        ' flex-col "><main id="main-content" class="flex-1"><div class="flex flex-col items-center justify-center'
        ' min-h-[60vh] px-4 bg-background"><h1 class="caustenBlack text-[64px]">404</h1><p class="caustenRegular'
        ' text-lg">The page you are looking for could not be found.</p><a href="/en" class="caustenBold">Back to'
        ' the home page</a></div></main></div></div><script>$RC("B:4","S:4")</script></body></html>'
    )
