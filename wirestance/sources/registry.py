"""The registry of sources: the shipped sources.toml, then the user's file (setting WIRESTANCE_SOURCES_FILE).

A user file adds sources and changes shipped ones key by key (`[sources.tass]` + `enabled = true` switches
TASS on). A file that is not TOML, or whose entries contradict themselves or each other, is refused when
the registry is built, with the file, the line and the reason (`SourcesFileError`). A dedicated parser
module that is not importable leaves its source out, with a warning, so the rest still runs.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import threading
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wirestance.sources.base import GENERIC, Feed, Politeness, Source

log = logging.getLogger(__name__)

SHIPPED_FILE = Path(__file__).with_name("sources.toml")
#: The setting naming the user's sources file (Settings.sources_file; added to, and overriding, the shipped one).
SOURCES_FILE_ENV = "WIRESTANCE_SOURCES_FILE"

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_KEYS = {
    "enabled": bool,
    "parser": str,
    "domains": list,
    "origin": str,
    "timezone": str,
    "language": str,
    "feeds": list,
    "feed_template": str,
    "default_categories": list,
    "sitemaps": list,
    "news_sitemaps": list,
    "article_url": str,
    "archive_patterns": list,
    "politeness": dict,
    "generic_fallback": bool,
}
_REQUIRED = ("parser", "domains", "timezone", "language")
_FEED_KEYS = {"url": str, "category": str, "format": str}
_POLITENESS_KEYS = {"per_host_delay": (int, float), "per_host_concurrency": int, "max_body_bytes": int}


class SourcesFileError(ValueError):
    """A sources file refused at start: names the file, the line and what is wrong."""

    def __init__(self, path: Path | str, line: int | None, reason: str) -> None:
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {reason}")
        self.path = str(path)
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class Registry:
    #: Every declared source that could be built, enabled or not, in file order.
    sources: dict[str, Source]
    #: Declared sources left out, with why (a dedicated parser module not importable yet).
    skipped: dict[str, str]

    @property
    def enabled(self) -> list[Source]:
        return [source for source in self.sources.values() if source.enabled]

    def enabled_names(self) -> list[str]:
        return [source.name for source in self.enabled]

    def get(self, name: str) -> Source:
        """The source declared as `name`; ValueError listing the known names otherwise."""
        key = name.strip().lower()
        if key in self.sources:
            return self.sources[key]
        if key in self.skipped:
            raise ValueError(f"source {key!r} is not available: {self.skipped[key]}")
        known = ", ".join(self.sources)
        raise ValueError(f"unknown source {name!r}; known sources: {known}")

    def for_url(self, url: str) -> Source | None:
        """The source whose domains hold `url`'s host: an enabled one first, a dedicated one before generic."""
        owners = [source for source in self.sources.values() if source.owns(url)]
        owners.sort(key=lambda s: (not s.enabled, s.is_generic, -_longest_domain(s, url)))
        return owners[0] if owners else None

    def pick(self, url: str, forced: str | None = None) -> Source:
        """The source to parse a page of `url` with: `forced` by name ("generic": the generic parser under
        the name of the URL's source, else its host), else the one `url`'s domain belongs to. ValueError
        when there is none, saying what to do."""
        if forced is not None and forced.strip().lower() == GENERIC:
            if importlib.util.find_spec(f"wirestance.sources.{GENERIC}") is None:
                raise ValueError(f"the generic parser is not available: wirestance.sources.{GENERIC} is not installed")
            owner = self.for_url(url)
            host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
            if owner is not None:
                return replace(owner, parser=GENERIC, generic_fallback=False, article_url=owner.article_url or _ANY_URL)
            return Source(
                name=host or GENERIC,
                allowed_domains=(host,) if host else (),
                timezone="UTC",
                language="en",
                parser=GENERIC,
                article_url=_ANY_URL,
            )
        if forced is not None:
            return self.get(forced)
        owner = self.for_url(url)
        if owner is None:
            host = urlsplit(url).hostname or url
            raise ValueError(
                f"no source is declared for {host}; name one with --source NAME, or --source generic "
                "(or add the site to a sources file, see WIRESTANCE_SOURCES_FILE)"
            )
        return owner


_ANY_URL = re.compile(r"^https?://")


def _longest_domain(source: Source, url: str) -> int:
    host = (urlsplit(url).hostname or "").lower()
    return max((len(d) for d in source.allowed_domains if host == d or host.endswith("." + d)), default=0)


# --- loading ---------------------------------------------------------------------------------------


@dataclass
class _Entry:
    """One source's table, merged across files, with where each key came from (for error lines)."""

    name: str
    values: dict[str, Any]
    lines: dict[str, tuple[Path, int]]


def load_registry(user_file: Path | str | None = None, *, shipped: Path = SHIPPED_FILE) -> Registry:
    """The shipped sources plus the user's file (default: the WIRESTANCE_SOURCES_FILE setting)."""
    if user_file is None:
        user_file = _user_file_setting()
    entries: dict[str, _Entry] = {}
    files = [shipped] + ([Path(user_file)] if user_file else [])
    for path in files:
        _merge_file(entries, Path(path))
    sources: dict[str, Source] = {}
    skipped: dict[str, str] = {}
    for entry in entries.values():
        source = _build(entry)
        if importlib.util.find_spec(f"wirestance.sources.{source.parser}") is None:
            reason = f"its parser module wirestance.sources.{source.parser} is not installed"
            if source.enabled:
                log.warning("source %s left out: %s", source.name, reason)
            skipped[source.name] = reason
            continue
        sources[source.name] = source
    _check_together(entries, sources)
    return Registry(sources=sources, skipped=skipped)


def _merge_file(entries: dict[str, _Entry], path: Path) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourcesFileError(path, None, f"cannot be read: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_from_message(str(exc))
        if line is None and "end of document" in str(exc):
            line = max(1, len(text.rstrip().splitlines()))
        raise SourcesFileError(path, line, f"not valid TOML: {exc}") from None
    lines = text.splitlines()
    unknown_top = [key for key in data if key != "sources"]
    if unknown_top:
        raise SourcesFileError(path, _key_line(lines, unknown_top[0]), f"unknown top-level key {unknown_top[0]!r}")
    tables = data.get("sources", {})
    if not isinstance(tables, dict):
        raise SourcesFileError(path, _key_line(lines, "sources"), "`sources` must be tables: [sources.<name>]")
    for name, table in tables.items():
        header = _header_line(lines, name)
        if not _NAME.match(name):
            raise SourcesFileError(path, header, f"source name {name!r}: lower-case letters, digits and _ only")
        if not isinstance(table, dict):
            raise SourcesFileError(path, header, f"source {name!r} must be a table")
        entry = entries.setdefault(name, _Entry(name, {}, {}))
        for key, value in table.items():
            line = _line_in_table(lines, name, key) or header
            expected = _KEYS.get(key)
            if expected is None:
                known = ", ".join(_KEYS)
                raise SourcesFileError(path, line, f"source {name!r}: unknown key {key!r} (known: {known})")
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                raise SourcesFileError(
                    path, line, f"source {name!r}: {key} must be a {expected.__name__}, not {type(value).__name__}"
                )
            entry.values[key] = value
            entry.lines[key] = (path, line or 0)
        entry.lines.setdefault("", (path, header or 0))


def _build(entry: _Entry) -> Source:
    values = entry.values
    name = entry.name

    def refuse(key: str, reason: str) -> SourcesFileError:
        path, line = entry.lines.get(key) or entry.lines[""]
        return SourcesFileError(path, line or None, f"source {name!r}: {reason}")

    for key in _REQUIRED:
        if key not in values:
            raise refuse("", f"missing required key {key!r}")
    parser = values["parser"].strip()
    if not _NAME.match(parser):
        raise refuse("parser", f"parser {parser!r} is neither {GENERIC!r} nor a module name")

    def strings(key: str) -> list[str]:
        return _strings(values.get(key, []), lambda: refuse(key, f"{key} must be a list of non-empty strings"))

    domains = tuple(d.lower() for d in strings("domains"))
    if not domains:
        raise refuse("domains", "at least one domain is needed")
    for domain in domains:
        if not _DOMAIN.match(domain):
            raise refuse("domains", f"{domain!r} is not a host name (no scheme, no path, lower case)")
    try:
        ZoneInfo(values["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise refuse("timezone", f"unknown time zone {values['timezone']!r}; use an IANA name") from None
    if not _LANGUAGE.match(values["language"]):
        raise refuse("language", f"language {values['language']!r} is not an ISO 639 code such as 'en'")

    def on_site(url: str, key: str) -> str:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not host:
            raise refuse(key, f"{url!r} is not an http(s) URL")
        if not any(host == d or host.endswith("." + d) for d in domains):
            raise refuse(key, f"{url!r} is outside the source's domains {list(domains)}")
        return url

    origin = on_site(values["origin"], "origin").rstrip("/") if "origin" in values else ""
    feeds = tuple(_feed(item, refuse, on_site) for item in values.get("feeds", []))
    categories = [feed.category for feed in feeds if feed.category]
    duplicates = sorted({c for c in categories if categories.count(c) > 1})
    if duplicates:
        raise refuse("feeds", f"two feeds for category {duplicates[0]!r}")
    template = values.get("feed_template")
    if template is not None:
        if "{category}" not in template:
            raise refuse("feed_template", "feed_template must contain {category}")
        on_site(template.replace("{category}", "x"), "feed_template")
    defaults = tuple(strings("default_categories"))
    for category in defaults:
        if category not in categories and template is None:
            raise refuse("default_categories", f"default category {category!r} has no feed and there is no template")
    sitemaps = tuple(on_site(url, "sitemaps") for url in strings("sitemaps"))
    news = tuple(on_site(url, "news_sitemaps") for url in strings("news_sitemaps"))
    article_url = None
    if "article_url" in values:
        try:
            article_url = re.compile(values["article_url"])
        except re.error as exc:
            raise refuse("article_url", f"article_url is not a regular expression: {exc}") from None
    if parser == GENERIC and article_url is None:
        raise refuse("article_url", "a generic source needs article_url (which URLs are articles)")
    patterns = tuple(strings("archive_patterns"))
    for pattern in patterns:
        host = pattern.split("/", 1)[0].lstrip("*.").lower()
        if "://" in pattern or not any(host == d or host.endswith("." + d) for d in domains):
            raise refuse("archive_patterns", f"archive pattern {pattern!r} is not 'host/path*' on the source's domains")
    politeness = _politeness(values.get("politeness", {}), refuse)
    fallback = bool(values.get("generic_fallback", False))
    if fallback and parser == GENERIC:
        raise refuse("generic_fallback", "generic_fallback is for dedicated parsers; this source is generic already")
    return Source(
        name=name,
        allowed_domains=domains,
        timezone=values["timezone"],
        language=values["language"],
        parser=parser,
        enabled=bool(values.get("enabled", True)),
        origin=origin,
        feeds=feeds,
        feed_template=template,
        default_categories=defaults,
        sitemaps=sitemaps,
        news_sitemaps=news,
        article_url=article_url,
        archive_patterns=patterns,
        politeness=politeness,
        generic_fallback=fallback,
    )


def _feed(item: Any, refuse: Any, on_site: Any) -> Feed:
    if not isinstance(item, dict):
        raise refuse("feeds", "each feed is a table with url, category and format: [[sources.<name>.feeds]]")
    for key, value in item.items():
        if key not in _FEED_KEYS:
            raise refuse("feeds", f"feed key {key!r} unknown (known: url, category, format)")
        if not isinstance(value, _FEED_KEYS[key]):
            raise refuse("feeds", f"feed {key} must be a string")
    if "url" not in item:
        raise refuse("feeds", "a feed without url")
    kind = item.get("format", "rss")
    if kind not in ("rss", "atom"):
        raise refuse("feeds", f"feed format {kind!r} is neither 'rss' (RSS 2.0) nor 'atom'")
    return Feed(url=on_site(item["url"], "feeds"), category=item.get("category"), format=kind)


def _politeness(table: Mapping[str, Any], refuse: Any) -> Politeness:
    for key, value in table.items():
        expected = _POLITENESS_KEYS.get(key)
        if expected is None:
            raise refuse("politeness", f"politeness key {key!r} unknown (known: {', '.join(_POLITENESS_KEYS)})")
        if not isinstance(value, expected) or isinstance(value, bool) or value <= 0:
            raise refuse("politeness", f"politeness {key} must be a positive number")
    return Politeness(
        per_host_delay=float(table["per_host_delay"]) if "per_host_delay" in table else None,
        per_host_concurrency=table.get("per_host_concurrency"),
        max_body_bytes=table.get("max_body_bytes"),
    )


def _strings(values: Iterable[Any], error: Any) -> list[str]:
    out = []
    for value in values:
        if not isinstance(value, str) or not value.strip():
            raise error()
        out.append(value.strip())
    return out


def _check_together(entries: dict[str, _Entry], sources: dict[str, Source]) -> None:
    """Two enabled sources may not claim one domain: a page's source is picked from its domain."""
    claimed: dict[str, str] = {}
    for source in sources.values():
        if not source.enabled:
            continue
        for domain in source.allowed_domains:
            other = claimed.get(domain)
            if other is not None:
                path, line = entries[source.name].lines.get("domains") or entries[source.name].lines[""]
                raise SourcesFileError(
                    path,
                    line or None,
                    f"source {source.name!r}: domain {domain!r} is already taken by {other!r}; "
                    "two enabled sources cannot share a domain",
                )
            claimed[domain] = source.name


# --- line numbers (tomllib gives none for values) ---------------------------------------------------


def _line_from_message(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None


def _header_line(lines: list[str], name: str) -> int | None:
    header = re.compile(rf"^\s*\[\s*sources\s*\.\s*\"?{re.escape(name)}\"?\s*\]")
    for number, line in enumerate(lines, start=1):
        if header.match(line):
            return number
    return _key_line(lines, name)


def _line_in_table(lines: list[str], name: str, key: str) -> int | None:
    """The line of `key` inside [sources.<name>] (or its sub-tables), counting from the table's header."""
    start = _header_line(lines, name)
    if start is None:
        return None
    own = re.compile(rf"^\s*\[\[?\s*sources\s*\.\s*\"?{re.escape(name)}\"?\s*(\.|\])")
    sub = re.compile(rf"^\s*\[\[?\s*sources\s*\.\s*\"?{re.escape(name)}\"?\s*\.\s*{re.escape(key)}\s*\]")
    assignment = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for number in range(start, len(lines) + 1):
        line = lines[number - 1]
        if number > start and line.lstrip().startswith("[") and not own.match(line):
            break
        if sub.match(line) or assignment.match(line):
            return number
    return None


def _key_line(lines: list[str], key: str) -> int | None:
    pattern = re.compile(rf"^\s*\[*\s*\"?{re.escape(key)}\b")
    for number, line in enumerate(lines, start=1):
        if pattern.match(line):
            return number
    return None


# --- the process's registry ---------------------------------------------------------------------------


def _user_file_setting() -> str | None:
    from wirestance.settings import Settings

    return Settings.from_env().sources_file.strip() or None


_lock = threading.Lock()
_cached: tuple[str | None, Registry] | None = None


def registry() -> Registry:
    """The registry for the current WIRESTANCE_SOURCES_FILE, built once per value of the setting."""
    global _cached
    user_file = _user_file_setting()
    with _lock:
        if _cached is None or _cached[0] != user_file:
            _cached = (user_file, load_registry(user_file))
        return _cached[1]
