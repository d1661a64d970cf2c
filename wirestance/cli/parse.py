"""`wirestance parse`: pages (files or URLs) to article JSON, by the source their domain belongs to.

    wirestance parse PAGE.html --url https://apnews.com/article/...    one page, pretty JSON
    wirestance parse PAGE.html --source generic                         the generic parser, whatever the site
    wirestance parse --manifest LIST.jsonl                              one JSON line per input line, in order

A manifest line is {"path": ..., "url": ..., "source": optional}; a relative path is read from the
manifest's folder. Each output line is the article (the fields of the contract) plus "path", or "path"
and "error" for a page that is not an article. The exit status is 0 when every page parsed, 1 when some
did not, 2 when the command itself cannot run.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from wirestance.cli import CliError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("parse", help="parse pages (files or URLs) of any agency and print the articles as JSON")
    p.add_argument("target", metavar="PATH_OR_URL", nargs="?", help="a saved page (.html or .html.gz) or a URL")
    p.add_argument("--url", help="the page's address when parsing a file (default: the page's canonical link)")
    p.add_argument("--source", help="parse as this source, or `generic` (default: the source of the URL's domain)")
    p.add_argument("--manifest", type=Path, help="a JSONL list of {path, url, source?}: one output line per line")
    p.set_defaults(handler=_parse)


def _parse(args: argparse.Namespace) -> int:
    # A source left out of the registry is named when asked for; its warning would break one-line output.
    logging.getLogger("wirestance.sources").addHandler(logging.NullHandler())
    from wirestance.sources import registry
    from wirestance.sources.registry import SourcesFileError

    try:
        sources = registry()
    except SourcesFileError as exc:
        raise CliError(str(exc)) from None
    if args.manifest is not None:
        if args.target or args.url:
            raise CliError("--manifest reads its pages from the list: give no PATH_OR_URL and no --url")
        return _manifest(args.manifest, args.source, sources)
    if not args.target:
        raise CliError("give a PATH_OR_URL, or --manifest LIST.jsonl")
    from wirestance.articles import NotAnArticle
    from wirestance.fetch import FetchError

    try:
        article = _one(args.target, args.url, args.source, sources, fetch_urls=True)
    except (NotAnArticle, FetchError, ValueError) as exc:
        message = str(exc)
        raise CliError(message if args.target in message else f"{args.target}: {message}") from None
    except OSError as exc:
        raise CliError(f"{args.target}: {exc.strerror or exc}") from None
    except Exception as exc:  # whatever the page does to a parser, one line, not a traceback
        raise CliError(f"{args.target}: {type(exc).__name__}: {exc}") from None
    json.dump(article, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0


def _manifest(manifest: Path, forced: str | None, sources: Any) -> int:
    from wirestance.articles import NotAnArticle

    try:
        lines = manifest.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CliError(f"{manifest}: {exc.strerror or exc}") from None
    folder = manifest.resolve().parent
    failed = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        path: Any = None
        try:
            try:
                entry = json.loads(line)
            except ValueError as exc:
                raise ValueError(f"{manifest}:{number}: not a JSON object: {exc}") from None
            if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
                raise ValueError(f"{manifest}:{number}: a line must be an object with a string `path`")
            path = entry["path"]
            url = entry.get("url")
            source = entry.get("source") or forced
            if not isinstance(url, str | None) or not isinstance(source, str | None):
                raise ValueError(f"{manifest}:{number}: `url` and `source` must be strings")
            target = Path(path) if Path(path).is_absolute() else folder / path
            out = {**_one(str(target), url, source, sources, fetch_urls=False), "path": path}
        except (NotAnArticle, ValueError, OSError) as exc:
            failed += 1
            out = {"path": path, "error": str(exc)}
        except Exception as exc:  # a page that crashes a parser is that line's error, not the end of the list
            failed += 1
            out = {"path": path, "error": f"{path}: {type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return 1 if failed else 0


def _one(target: str, url: str | None, forced: str | None, sources: Any, *, fetch_urls: bool) -> dict[str, Any]:
    """One page's article as the contract's JSON object; NotAnArticle/ValueError/OSError otherwise."""
    from wirestance.fetch import decode_body
    from wirestance.pages import screen_article
    from wirestance.settings import Settings

    settings = Settings.from_env()
    if fetch_urls and urlsplit(target).scheme in ("http", "https"):
        html, page_url = _fetch(target, forced, sources), url or target
    else:
        path = Path(target)
        if not path.is_file():
            raise ValueError(f"{target}: no such file")
        html = decode_body(read_page_file(path, settings.max_body_bytes), None)
        page_url = url or _canonical_link(html) or path.resolve().as_uri()
    source = sources.pick(page_url, forced)
    result: dict[str, Any] = screen_article(source.parse(html, page_url), settings).to_json_dict()
    return result


def read_page_file(path: Path, limit: int) -> bytes:
    """A page file's bytes, a gzip one (`.gz`, or gzip's magic bytes) decompressed, never more than `limit`
    bytes (a small file can expand to gigabytes). Raises ValueError naming the file and what is wrong."""
    import zlib

    try:
        with open(path, "rb") as handle:
            zipped = path.suffix == ".gz" or handle.read(2) == b"\x1f\x8b"
            handle.seek(0)
            if not zipped:
                data = handle.read(limit + 1)
            else:
                with gzip.GzipFile(fileobj=handle) as unzipped:
                    data = unzipped.read(limit + 1)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise ValueError(f"{path}: not a readable gzip file ({exc or type(exc).__name__})") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    if len(data) > limit:
        what = "decompresses to" if zipped else "is"
        raise ValueError(f"{path}: {what} more than {limit} bytes (WIRESTANCE_MAX_BODY_BYTES)")
    return data


def _fetch(target: str, forced: str | None, sources: Any) -> str:
    from wirestance.fetch import FetchError, PoliteFetcher, decode_body
    from wirestance.settings import Settings

    source = sources.pick(target, forced)
    host = (urlsplit(target).hostname or "").lower()
    with PoliteFetcher(source.politeness.apply(Settings.from_env()), [*source.allowed_domains, host]) as fetcher:
        response = fetcher.get(target)
    if response.status != 200:
        raise FetchError(target, f"HTTP {response.status}")
    return decode_body(response.body, response.declared_charset)


def _canonical_link(html: str) -> str | None:
    """The page's own address (link rel=canonical, else og:url): which site a saved page is from."""
    from lxml import etree
    from lxml.html import document_fromstring

    try:
        root = document_fromstring(html.encode("utf-8"))
    except (etree.ParserError, ValueError):
        return None
    for href in root.xpath("//link[@rel='canonical']/@href | //meta[@property='og:url']/@content"):
        href = str(href).strip()
        if urlsplit(href).scheme in ("http", "https"):
            return urljoin(href, href)
    return None
