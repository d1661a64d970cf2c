"""Helpers every agency parser shares: one HTML parse, text clean-up, meta tags, JSON-LD and dates.

Agency modules read their fields through these so that whitespace, time zones and broken markup are
handled the same way for every source.
"""

from __future__ import annotations

import json
import re
import threading
import unicodedata
from collections.abc import Collection, Iterator
from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from lxml import etree
from lxml.html import HtmlElement, HTMLParser, document_fromstring

from wirestance.articles import NotAnArticle

#: Turkish agencies print local wall-clock time without an offset; this is what it means.
ISTANBUL = ZoneInfo("Europe/Istanbul")

# Characters that take no room on screen but break string equality between two copies of a text.
_INVISIBLE_CHARS = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_SNIFF_BYTES = 4096

_META = etree.XPath("//meta")
_CANONICAL = etree.XPath("//link[@rel='canonical']/@href")
# Where it belongs: a cheap look before the whole-document scan (pages with hundreds of links).
_HEAD_CANONICAL = etree.XPath("/html/head/link[@rel='canonical']/@href")
_JSON_LD = etree.XPath("//script[@type='application/ld+json']")


# --- text --------------------------------------------------------------------------------------


def normalize_text(text: str | None) -> str:
    """One line of clean text: NFC, no invisible characters, runs of any whitespace as one space."""
    if not text:
        return ""
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    # A regex and str.split() run in C; str.translate with a table is a Python-speed loop per character.
    # str.split() splits on exactly what \s matches in a str pattern (Unicode whitespace).
    return " ".join(_INVISIBLE_CHARS.sub("", text).split())


def element_text(element: HtmlElement) -> str:
    """The visible text of an element as one clean line; a <br> counts as a space, not as nothing."""
    for br in element.iter("br"):
        if not (br.tail or "").startswith(" "):  # once: callers may read an element twice
            br.tail = " " + (br.tail or "")
    return normalize_text(element.text_content())


# --- the document ------------------------------------------------------------------------------


_THREAD_PARSERS = threading.local()


def _parser_for(encoding: str | None, drop_comments: bool = False) -> HTMLParser:
    """This thread's parser for an encoding: lxml serialises parses that share a parser object, and
    the pipeline parses in a thread pool."""
    parsers: dict[tuple[str | None, bool], HTMLParser] | None = getattr(_THREAD_PARSERS, "by_encoding", None)
    if parsers is None:
        parsers = _THREAD_PARSERS.by_encoding = {}
    parser = parsers.get((encoding, drop_comments))
    if parser is None:
        options = {"remove_comments": True, "remove_pis": True} if drop_comments else {}
        parser = HTMLParser(encoding=encoding, **options) if encoding else HTMLParser(**options)
        parsers[(encoding, drop_comments)] = parser
    return parser


def _declared_encoding(head: bytes) -> str | None:
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8"
    match = _CHARSET.search(head)
    if match is None:
        return "utf-8"  # today's news sites; libxml2's own guess for undeclared bytes is latin-1
    name = match.group(1).decode("ascii").lower()
    try:
        "".encode(name)
    except LookupError:
        return None  # let libxml2 sniff the bytes itself
    return name


def parse_html(data: bytes | str, where: str, *, drop_comments: bool = False) -> HtmlElement:
    """Parse a page once into an lxml tree, or raise NotAnArticle for input that is not an HTML page.

    `drop_comments` leaves comments and processing instructions out of the tree (as text extractors
    expect: with a comment inside a paragraph, the text after it hangs off the comment).
    """
    head = data[:_SNIFF_BYTES]
    if isinstance(head, str):
        head = head.encode("utf-8", "replace")
    if not head.strip():
        raise NotAnArticle(where, "empty page")
    if head.lstrip().startswith(b"%PDF"):
        raise NotAnArticle(where, "not HTML: the body is a PDF document")
    if b"\x00" in head:
        raise NotAnArticle(where, "not HTML: the body is binary data")
    if b"<" not in head:
        raise NotAnArticle(where, "not HTML: no markup in the body")
    try:
        if isinstance(data, str):
            return document_fromstring(data, parser=_parser_for(None, drop_comments))
        return document_fromstring(data, parser=_parser_for(_declared_encoding(head), drop_comments))
    except ValueError:
        # lxml refuses a str that carries an XML encoding declaration; bytes parse fine.
        if isinstance(data, str):
            return document_fromstring(data.encode("utf-8"), parser=_parser_for("utf-8", drop_comments))
        raise NotAnArticle(where, "not HTML: the parser found no document") from None
    except etree.ParserError as exc:
        raise NotAnArticle(where, f"not HTML: {exc}") from None


# --- meta tags and links -----------------------------------------------------------------------


def meta_tags(root: HtmlElement) -> dict[str, list[str]]:
    """Every <meta> content by its lower-cased name, property, itemprop or http-equiv, in page order."""
    tags: dict[str, list[str]] = {}
    for meta in _META(root):
        content = meta.get("content")
        if content is None:
            continue
        for attribute in ("property", "name", "itemprop", "http-equiv"):
            key = meta.get(attribute)
            if key:
                tags.setdefault(key.strip().lower(), []).append(content)
    return tags


def first_meta(tags: dict[str, list[str]], *keys: str) -> str | None:
    """The first non-empty, normalised content among the given meta keys, tried in order."""
    for key in keys:
        for content in tags.get(key, ()):
            text = normalize_text(content)
            if text:
                return text
    return None


def canonical_url(root: HtmlElement, tags: dict[str, list[str]], url: str) -> str:
    """link rel=canonical, else og:url, else the URL the page was fetched from (made absolute)."""
    for href in _HEAD_CANONICAL(root) or _CANONICAL(root):
        href = href.strip()
        if href:
            return urljoin(url, href)
    og_url = first_meta(tags, "og:url")
    return urljoin(url, og_url) if og_url else url


def html_language(root: HtmlElement) -> str | None:
    """The primary language subtag of <html lang>, lower-cased ("tr" for "tr-TR")."""
    lang = (root.get("lang") or "").strip()
    return lang.split("-")[0].split("_")[0].lower() or None


# --- JSON-LD -----------------------------------------------------------------------------------


def _flatten(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, list):
        for item in value:
            yield from _flatten(item)
    elif isinstance(value, dict):
        yield value
        if "@graph" in value:
            yield from _flatten(value["@graph"])


def json_ld_objects(root: HtmlElement) -> list[dict[str, Any]]:
    """All JSON-LD objects of the page, @graph members and top-level lists flattened.

    A block that is not valid JSON is skipped: one broken widget must not cost the article.
    """
    objects: list[dict[str, Any]] = []
    for script in _JSON_LD(root):
        text = (script.text or "").strip()
        if not text:
            continue
        try:
            # strict=False: CMSs leave raw newlines and tabs inside JSON strings.
            objects.extend(_flatten(json.loads(text, strict=False)))
        except ValueError:
            continue
    return objects


def find_json_ld(objects: list[dict[str, Any]], types: Collection[str]) -> dict[str, Any] | None:
    """The first JSON-LD object whose @type (a string or a list) is one of `types`."""
    for obj in objects:
        declared = obj.get("@type")
        names = declared if isinstance(declared, list) else [declared]
        if any(name in types for name in names if isinstance(name, str)):
            return obj
    return None


def json_ld_names(value: Any) -> list[str]:
    """Names from a JSON-LD person/organisation field: a string, an object with "name", or a list."""
    items = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in items:
        raw = item.get("name") if isinstance(item, dict) else item
        name = normalize_text(raw) if isinstance(raw, str) else ""
        if name and name not in names:
            names.append(name)
    return names


# --- dates -------------------------------------------------------------------------------------


def parse_site_date(text: str, fmt: str, tz: tzinfo = ISTANBUL) -> datetime:
    """A date or time printed on the page, read with the site's own strptime format, in `tz`.

    Always an explicit format: a guessing parser reads 05.04.2025 as May 4th. Raises ValueError.
    """
    return datetime.strptime(normalize_text(text), fmt).replace(tzinfo=tz)


def parse_iso_datetime(text: str, default_tz: tzinfo = ISTANBUL) -> datetime:
    """An ISO 8601 timestamp (meta tags, JSON-LD); one without an offset is read in `default_tz`.

    Raises ValueError for text that is not ISO 8601.
    """
    value = datetime.fromisoformat(normalize_text(text))
    return value if value.tzinfo is not None else value.replace(tzinfo=default_tz)
