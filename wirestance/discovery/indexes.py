"""Article captures from web-archive indexes: the Internet Archive's CDX API and the Common Crawl URL index.

Both answer "which URLs under this prefix were captured in this date range". An answer is checked before
use: one that is not the documented JSON, or that lists a URL outside the source's domains (a wrong
query, or a mirror that is not what it claims), is refused whole with an `IndexAnswerError`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from wirestance.discovery.config import DiscoveryConfig
from wirestance.discovery.types import Capture, IndexAnswerError
from wirestance.fetch import FetchError, FetchResult, PoliteFetcher, host_allowed

# --- Internet Archive CDX API ---------------------------------------------------------------------


def wayback_captures(
    fetcher: PoliteFetcher,
    config: DiscoveryConfig,
    pattern: str,
    since: date,
    until: date,
    domains: Sequence[str],
) -> list[Capture]:
    """Captures with status 200 of URLs matching `pattern` (e.g. "aa.com.tr/en/*"), one per URL key, taken
    on days `since` to `until` inclusive; follows the CDX server's resume key page by page."""
    base = config.wayback_base.rstrip("/") + "/cdx/search/cdx?"
    params: dict[str, str] = {
        "url": pattern,
        "from": since.strftime("%Y%m%d"),
        "to": until.strftime("%Y%m%d"),
        "output": "json",
        "filter": "statuscode:200",
        "collapse": "urlkey",
        "limit": str(config.cdx_page_size),
        "showResumeKey": "true",
    }
    captures: list[Capture] = []
    for _ in range(config.max_index_pages):
        url = base + urlencode(params)
        rows, resume_key = parse_cdx_json(_get_ok(fetcher, url).body, url, domains)
        captures.extend(rows)
        if not resume_key:
            return captures
        params["resumeKey"] = resume_key
    raise IndexAnswerError(base, f"still more results after {config.max_index_pages} pages; narrow the window")


def parse_cdx_json(body: bytes, url: str, domains: Sequence[str]) -> tuple[list[Capture], str | None]:
    """Captures and the resume key (or None) of one CDX JSON answer: a header row of field names, one row
    per capture, then with showResumeKey an empty row and a one-item row holding the key."""
    data = _json(body, url)
    if data == []:
        return [], None
    if not isinstance(data, list) or not all(isinstance(r, list) for r in data):
        raise IndexAnswerError(url, "CDX answer is not a JSON array of rows")
    header, rows = data[0], data[1:]
    resume_key: str | None = None
    if len(rows) >= 2 and rows[-2] == [] and len(rows[-1]) == 1:
        resume_key = str(rows[-1][0])
        rows = rows[:-2]
    for field_name in ("original", "timestamp"):
        if field_name not in header:
            raise IndexAnswerError(url, f"CDX header row {header!r} has no {field_name!r} field")
    captures: list[Capture] = []
    for row in rows:
        if len(row) != len(header):
            raise IndexAnswerError(url, f"CDX row {row!r} does not match the header {header!r}")
        fields = dict(zip(header, row, strict=True))
        if fields.get("statuscode", "200") != "200":
            continue
        captures.append(
            Capture("wayback", str(fields["original"]), str(fields["timestamp"]), fields.get("digest") or None)
        )
    _refuse_foreign(captures, url, domains)
    return captures, resume_key


# --- Common Crawl URL index -----------------------------------------------------------------------


def commoncrawl_crawls(fetcher: PoliteFetcher, config: DiscoveryConfig, since: date, until: date) -> list[str]:
    """Crawl ids to ask for captures taken from `since` to `until`: the configured ones, else those
    collinfo.json lists whose crawl period overlaps (derived from the id's ISO week when not given)."""
    if config.cc_crawls:
        return list(config.cc_crawls)
    url = config.cc_index_base.rstrip("/") + "/collinfo.json"
    data = _json(_get_ok(fetcher, url).body, url)
    if not isinstance(data, list):
        raise IndexAnswerError(url, "collinfo.json is not a JSON array")
    chosen: list[str] = []
    for entry in data:
        crawl = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(crawl, str) or not crawl.startswith("CC-MAIN-"):
            continue
        first, last = _crawl_period(entry, crawl)
        if first is not None and last is not None and first <= until and last >= since:
            chosen.append(crawl)
    return chosen


def commoncrawl_captures(
    fetcher: PoliteFetcher,
    config: DiscoveryConfig,
    crawl: str,
    pattern: str,
    since: date,
    until: date,
    domains: Sequence[str],
) -> list[Capture]:
    """Captures with status 200 in one crawl's index (NDJSON, one object a line), all pages of it."""
    base = f"{config.cc_index_base.rstrip('/')}/{crawl}-index?"
    params = {
        "url": pattern,
        "output": "json",
        "from": since.strftime("%Y%m%d"),
        "to": until.strftime("%Y%m%d"),
    }
    count_url = base + urlencode({**params, "showNumPages": "true"})
    pages = _page_count(fetcher, count_url)
    if pages > config.max_index_pages:
        raise IndexAnswerError(count_url, f"{pages} pages is more than the limit of {config.max_index_pages}")
    captures: list[Capture] = []
    for page in range(pages):
        url = base + urlencode({**params, "page": str(page)})
        result = _get(fetcher, url)
        if result.status == 404 and b"No Captures found" in result.body:
            continue  # the index's way of saying "none"
        if result.status != 200:
            raise IndexAnswerError(url, f"HTTP {result.status}")
        captures.extend(parse_cc_ndjson(result.body, url, domains))
    return captures


def parse_cc_ndjson(body: bytes, url: str, domains: Sequence[str]) -> list[Capture]:
    captures: list[Capture] = []
    for number, line in enumerate(body.splitlines(), 1):
        if not line.strip():
            continue
        record = _json(line, f"{url} line {number}")
        if not isinstance(record, dict):
            raise IndexAnswerError(url, f"line {number} is not a JSON object")
        try:
            capture = Capture(
                "commoncrawl",
                str(record["url"]),
                str(record["timestamp"]),
                record.get("digest") or None,
                filename=str(record["filename"]),
                offset=int(record["offset"]),
                length=int(record["length"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexAnswerError(url, f"line {number} lacks a usable {exc} field") from None
        if str(record.get("status", "200")) == "200":
            captures.append(capture)
    _refuse_foreign(captures, url, domains)
    return captures


def _page_count(fetcher: PoliteFetcher, url: str) -> int:
    result = _get(fetcher, url)
    if result.status == 404 and b"No Captures found" in result.body:
        return 0
    if result.status != 200:
        raise IndexAnswerError(url, f"HTTP {result.status}")
    data = _json(result.body, url)
    pages = data.get("pages") if isinstance(data, dict) else data
    if not isinstance(pages, int) or pages < 0:
        raise IndexAnswerError(url, f"page count answer {result.body[:80]!r} has no page number")
    return pages


def _crawl_period(entry: dict[str, Any], crawl: str) -> tuple[date | None, date | None]:
    try:
        return _to_date(entry["from"]), _to_date(entry["to"])
    except (KeyError, TypeError, ValueError):
        pass
    try:  # CC-MAIN-2019-47: the crawl ends in ISO week 47 of 2019 and runs for about two weeks before it
        year, week = (int(part) for part in crawl.removeprefix("CC-MAIN-").split("-")[:2])
        end_of_week = date.fromisocalendar(year, week, 7)
    except ValueError:
        return None, None
    return end_of_week - timedelta(days=21), end_of_week


def _to_date(value: Any) -> date:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC).date()


# --- shared -------------------------------------------------------------------------------------------


def _get(fetcher: PoliteFetcher, url: str) -> FetchResult:
    try:
        return fetcher.get(url)
    except FetchError as exc:
        raise IndexAnswerError(url, exc.reason) from None


def _get_ok(fetcher: PoliteFetcher, url: str) -> FetchResult:
    result = _get(fetcher, url)
    if result.status != 200:
        raise IndexAnswerError(url, f"HTTP {result.status}")
    return result


def _json(body: bytes, url: str) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise IndexAnswerError(url, f"answer is not JSON: {body[:80]!r}") from None


def _refuse_foreign(captures: list[Capture], url: str, domains: Sequence[str]) -> None:
    foreign = [c.original_url for c in captures if not host_allowed(_with_scheme(c.original_url), domains)]
    if foreign:
        raise IndexAnswerError(
            url, f"answer lists {len(foreign)} URLs outside the source's domains {list(domains)}, e.g. {foreign[:3]}"
        )


def _with_scheme(url: str) -> str:
    # CDX "original" values are usually absolute, but some archives store "www.aa.com.tr:80/path".
    return url if "://" in url else "http://" + url
