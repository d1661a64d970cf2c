"""A loopback stand-in for a news site and the web archives, built from the offline sample site.

One HTTP server plays every part, each under its own paths:

- the live site: the sample's pages, a robots.txt declaring sitemaps, a sitemap index with monthly
  sitemaps (one gzipped) and a news sitemap; like the site's own, sitemaps list the site's real URLs
  (fetch them here with a `live_base_url`);
- the Internet Archive: the CDX API (`/cdx/search/cdx`, JSON rows with a header row and the resume key
  rows, as its documentation describes) and raw captures (`/web/<timestamp>id_/<url>`);
- Common Crawl: `collinfo.json`, per-crawl URL indexes (`/CC-MAIN-YYYY-WW-index`, NDJSON, with
  `showNumPages` and `page`) and WARC files answering byte ranges with 206.

Archived captures list the live site's real URLs in several spellings (http, amp, mobile host, query
strings), as archives do.
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from wirestance.replay import send_response

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "anadolu_en"
ORIGIN = "https://www.aa.com.tr"
CC_CRAWL = "CC-MAIN-2019-51"


@dataclass(frozen=True)
class SamplePage:
    article_id: str
    path: str
    file: Path
    published: datetime
    layout: str

    @property
    def html(self) -> bytes:
        return self.file.read_bytes()

    @property
    def capture_ts(self) -> str:
        # Archives capture a story a couple of days after it appears.
        return (self.published.astimezone(UTC) + timedelta(days=2)).strftime("%Y%m%d120000")


def sample_pages() -> list[SamplePage]:
    manifest = json.loads((SAMPLE / "manifest.json").read_text(encoding="utf-8"))
    routes = {r["path"]: SAMPLE / r["file"] for r in manifest["routes"]}
    pages = []
    for article in json.loads((SAMPLE / "articles.json").read_text(encoding="utf-8")):
        path = urlsplit(article["url"]).path
        pages.append(
            SamplePage(
                article["id"], path, routes[path], datetime.fromisoformat(article["published"]), article["layout"]
            )
        )
    return pages


def _cc_warc(pages: list[SamplePage], crawl: str) -> tuple[bytes, dict[str, tuple[int, int]]]:
    """A Common Crawl style WARC file of response records; (offset, length) per article id."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    where: dict[str, tuple[int, int]] = {}
    for page in pages:
        body = page.html
        http = StatusAndHeaders(
            "200 OK",
            [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))],
            protocol="HTTP/1.1",
        )
        captured = datetime.strptime(page.capture_ts, "%Y%m%d%H%M%S").strftime("%Y-%m-%dT%H:%M:%SZ")
        record = writer.create_warc_record(
            "https://m.aa.com.tr" + page.path,
            "response",
            payload=io.BytesIO(body),
            length=len(body),
            http_headers=http,
            warc_headers_dict={"WARC-Date": captured},
        )
        start = out.tell()
        writer.write_record(record)
        where[page.article_id] = (start, out.tell() - start)
    return out.getvalue(), where


class ArchiveServer:
    def __init__(self, pages: list[SamplePage] | None = None) -> None:
        self.pages = pages or sample_pages()
        self.by_id = {p.article_id: p for p in self.pages}
        self.requests: list[str] = []
        self.cdx_mode = "ok"  # ok | not-json | foreign
        self.live_missing: set[str] = set()  # article ids the live site answers 404 for
        self.cc_captured = {"1656530", "1674309"}
        self._faults: dict[str, deque[str]] = {}
        self._lock = threading.Lock()
        nov_dec = [self.by_id[i] for i in sorted(self.cc_captured)]
        self.cc_file = f"crawl-data/{CC_CRAWL}/segments/1/warc/{CC_CRAWL}-00000.warc.gz"
        self.cc_bytes, self.cc_where = _cc_warc(nov_dec, CC_CRAWL)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def inject(self, path_prefix: str, *faults: str) -> None:
        with self._lock:
            self._faults.setdefault(path_prefix, deque()).extend(faults)

    def hits(self, prefix: str) -> int:
        return sum(1 for r in self.requests if r.startswith(prefix))

    def __enter__(self) -> ArchiveServer:
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- content ------------------------------------------------------------------------------------

    def robots(self) -> bytes:
        sitemap = f"{self.base_url}/sitemap.xml"
        return f"User-agent: *\nAllow: /\n\nSitemap: {sitemap}\nsitemap: {sitemap}\n".encode()

    def months(self) -> dict[str, list[SamplePage]]:
        months: dict[str, list[SamplePage]] = {}
        for page in self.pages:
            months.setdefault(page.published.strftime("%Y-%m"), []).append(page)
        return months

    def sitemap_index(self) -> bytes:
        items = [f"<sitemap><loc>{self.base_url}/sitemap-news.xml</loc></sitemap>"]
        for month in sorted(self.months()):
            year, number = (int(x) for x in month.split("-"))
            last = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC) - timedelta(seconds=1)
            suffix = ".xml.gz" if month == "2019-11" else ".xml"
            items.append(
                f"<sitemap><loc>{self.base_url}/sitemap-{month}{suffix}</loc>"
                f"<lastmod>{last.isoformat()}</lastmod></sitemap>"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + "".join(items) + "</sitemapindex>"
        ).encode()

    def month_sitemap(self, month: str) -> bytes:
        urls = "".join(
            f"<url><loc>{ORIGIN}{p.path}</loc><lastmod>{p.published.isoformat()}</lastmod></url>"
            for p in self.months().get(month, [])
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
        ).encode()

    def news_sitemap(self) -> bytes:
        recent = [p for p in self.pages if p.published.year >= 2026]
        urls = "".join(
            f"<url><loc>{ORIGIN}{p.path}</loc><news:news><news:publication>"
            "<news:name>Anadolu Ajansı</news:name><news:language>en</news:language></news:publication>"
            f"<news:publication_date>{p.published.isoformat()}</news:publication_date>"
            f"<news:title>t{p.article_id}</news:title></news:news></url>"
            for p in recent
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>'
        ).encode()

    def cdx_rows(self, query: dict[str, list[str]]) -> list[list[str]]:
        first = query.get("from", ["0"])[0]
        last = query.get("to", ["99999999"])[0]
        rows = []
        for page in self.pages:
            if not first <= page.capture_ts[:8] <= last:
                continue
            amp = re.sub(r"^/en/", "/en/amp/", page.path)
            for url in (f"{ORIGIN}{page.path}", f"http://aa.com.tr{amp}", f"{ORIGIN}{page.path}/?utm_source=x"):
                key = "tr,com,aa)" + urlsplit(url).path
                rows.append([key, page.capture_ts, url, "text/html", "200", "DIGEST" + page.article_id, "1000"])
        if self.cdx_mode == "foreign":
            rows.append(["net,example,evil)/x", "20191127000000", "https://evil.example.net/en/politics/x/1",
                         "text/html", "200", "X", "1"])  # fmt: skip
        return rows

    def cc_lines(self, crawl: str, query: dict[str, list[str]]) -> list[bytes]:
        if crawl != CC_CRAWL:
            return []
        first = query.get("from", ["0"])[0]
        last = query.get("to", ["99999999"])[0]
        lines = []
        for article_id in sorted(self.cc_captured):
            page = self.by_id[article_id]
            if not first <= page.capture_ts[:8] <= last:
                continue
            offset, length = self.cc_where[article_id]
            record = {
                "urlkey": "tr,com,aa)" + page.path,
                "timestamp": page.capture_ts,
                "url": "https://m.aa.com.tr" + page.path,
                "mime": "text/html",
                "status": "200",
                "digest": "D" + article_id,
                "length": str(length),
                "offset": str(offset),
                "filename": self.cc_file,
            }
            lines.append(json.dumps(record).encode())
        return lines

    def page_for(self, url: str) -> SamplePage | None:
        match = re.search(r"/(\d+)(?:/amp)?/?(?:\?.*)?$", url)
        return self.by_id.get(match.group(1)) if match else None

    # -- HTTP -----------------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def do_GET(self) -> None:
                with server._lock:
                    server.requests.append(self.path)
                    fault = next(
                        (q.popleft() for prefix, q in server._faults.items() if self.path.startswith(prefix) and q),
                        None,
                    )
                if fault == "429":
                    self._send(429, b"slow down", "text/plain", {"Retry-After": "1"})
                    return
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                path = parts.path
                if path == "/robots.txt":
                    self._send(200, server.robots(), "text/plain")
                elif path == "/sitemap.xml":
                    self._send(200, server.sitemap_index(), "application/xml")
                elif path == "/sitemap-news.xml":
                    self._send(200, server.news_sitemap(), "application/xml")
                elif m := re.fullmatch(r"/sitemap-(\d{4}-\d{2})\.xml(\.gz)?", path):
                    import gzip

                    body = server.month_sitemap(m.group(1))
                    if m.group(2):
                        self._send(200, gzip.compress(body), "application/x-gzip")
                    else:
                        self._send(200, body, "application/xml")
                elif path == "/cdx/search/cdx":
                    self._cdx(query)
                elif path.startswith("/web/"):
                    self._wayback(self.path)
                elif path == "/collinfo.json":
                    self._send(200, json.dumps(_COLLINFO).encode(), "application/json")
                elif m := re.fullmatch(r"/(CC-MAIN-\d{4}-\d{2})-index", path):
                    self._cc_index(m.group(1), query)
                elif path == "/" + server.cc_file:
                    self._cc_data()
                elif (page := server.page_for(path)) is not None and page.path == path:
                    if page.article_id in server.live_missing:
                        self._send(404, b"<html><title>404 Not Found</title></html>", "text/html")
                    else:
                        self._send(200, page.html, "text/html; charset=utf-8")
                else:
                    self._send(404, b"not found", "text/plain")

            def _cdx(self, query: dict[str, list[str]]) -> None:
                if server.cdx_mode == "not-json":
                    self._send(200, b"<html><body>Wayback Machine is busy</body></html>", "text/html")
                    return
                rows = server.cdx_rows(query)
                limit = int(query.get("limit", ["100000"])[0])
                start = int(query.get("resumeKey", ["0"])[0])
                chunk = rows[start : start + limit]
                if not chunk and start == 0:
                    self._send(200, b"[]", "application/json")
                    return
                header = ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]
                answer: list[list[str]] = [header, *chunk]
                if query.get("showResumeKey") == ["true"] and start + limit < len(rows):
                    answer += [[], [str(start + limit)]]
                self._send(200, json.dumps(answer).encode(), "application/json")

            def _wayback(self, raw_path: str) -> None:
                m = re.match(r"^/web/(\d{14})id_/(.+)$", raw_path)
                page = server.page_for(m.group(2)) if m else None
                if m is None or page is None:
                    self._send(404, b"not archived", "text/plain")
                elif m.group(1) != page.capture_ts:
                    # Like the Wayback Machine: redirect to the nearest capture.
                    self._send(302, b"", None, {"Location": f"/web/{page.capture_ts}id_/{m.group(2)}"})
                else:
                    self._send(200, page.html, "text/html; charset=utf-8", {"X-Archive-Src": "test"})

            def _cc_index(self, crawl: str, query: dict[str, list[str]]) -> None:
                lines = server.cc_lines(crawl, query)
                if not lines:
                    body = json.dumps({"message": "No Captures found for: " + query.get("url", [""])[0]})
                    self._send(404, body.encode(), "application/json")
                elif query.get("showNumPages") == ["true"]:
                    body = json.dumps({"pages": len(lines), "pageSize": 1, "blocks": len(lines)})
                    self._send(200, body.encode(), "application/json")
                else:
                    page = int(query.get("page", ["0"])[0])
                    self._send(200, lines[page] + b"\n", "text/x-ndjson")

            def _cc_data(self) -> None:
                m = re.fullmatch(r"bytes=(\d+)-(\d+)", self.headers.get("Range", ""))
                if m is None:
                    self._send(200, server.cc_bytes, "application/octet-stream")
                    return
                first, last = int(m.group(1)), int(m.group(2))
                body = server.cc_bytes[first : last + 1]
                total = len(server.cc_bytes)
                self._send(206, body, "application/octet-stream", {"Content-Range": f"bytes {first}-{last}/{total}"})

            def _send(self, status: int, body: bytes, content_type: str | None, headers: dict | None = None) -> None:
                send_response(self, status, body, content_type, headers)

        return Handler


_COLLINFO = [
    {"id": "CC-MAIN-2026-12", "name": "March 2026 Index", "from": "2026-03-10T00:00:00", "to": "2026-03-23T00:00:00"},
    {"id": CC_CRAWL, "name": "December 2019 Index", "from": "2019-12-05T00:00:00", "to": "2019-12-16T00:00:00"},
    {"id": "CC-MAIN-2019-47", "name": "November 2019 Index"},  # no period given: derived from the week
    {
        "id": "CC-MAIN-2017-39",
        "name": "September 2017 Index",
        "from": "2017-09-18T00:00:00",
        "to": "2017-09-26T00:00:00",
    },
]
