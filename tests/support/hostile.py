"""A loopback HTTP server that answers each path the way a test scripts it, down to raw bytes on the socket.

wirestance.replay serves a stored site with a few queued faults; the cases here need more (malformed
headers, bodies that lie about their encoding, a byte every few seconds, Retry-After storms), so every
route is a function of the request handler.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from wirestance.replay import QuietHandler, send_response

Responder = Callable[[BaseHTTPRequestHandler], None]


class HostileServer:
    def __init__(self) -> None:
        self.routes: dict[str, Responder] = {}
        self.hits: Counter[str] = Counter()
        self.hit_times: dict[str, list[float]] = defaultdict(list)
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self.page("/robots.txt", b"User-agent: *\nAllow: /\n", content_type="text/plain")

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> HostileServer:
        threading.Thread(target=self._httpd.serve_forever, name="hostile-server", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- scripting routes ---------------------------------------------------------------------------

    def route(self, path: str, responder: Responder) -> str:
        self.routes[path] = responder
        return self.base_url + path

    def page(
        self,
        path: str,
        body: bytes,
        *,
        status: int = 200,
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> str:
        def respond(handler: BaseHTTPRequestHandler) -> None:
            send_response(handler, status, body, headers={"Content-Type": content_type, **(headers or {})})

        return self.route(path, respond)

    def raw(self, path: str, data: bytes) -> str:
        """Answer with exactly these bytes (status line and headers included), then close."""

        def respond(handler: BaseHTTPRequestHandler) -> None:
            handler.close_connection = True
            handler.wfile.write(data)
            handler.wfile.flush()

        return self.route(path, respond)

    def trickle(self, path: str, body: bytes, every: float, *, in_headers: bool = False) -> str:
        """A slowloris: one byte every `every` seconds, of the body (or of the headers themselves)."""

        def respond(handler: BaseHTTPRequestHandler) -> None:
            handler.close_connection = True
            head = f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            slow = head + body if in_headers else body
            if not in_headers:
                handler.wfile.write(head)
                handler.wfile.flush()
            try:
                for position in range(len(slow)):
                    if self.stopping.wait(every):
                        return
                    handler.wfile.write(slow[position : position + 1])
                    handler.wfile.flush()
            except OSError:
                return  # the client gave up

        return self.route(path, respond)

    def retry_after(self, path: str, seconds: str, *, status: int = 429, then: bytes | None = None) -> str:
        """Answer `status` with Retry-After every time, or only the first time when `then` is given."""
        answered = Counter[str]()

        def respond(handler: BaseHTTPRequestHandler) -> None:
            answered[path] += 1
            if then is not None and answered[path] > 1:
                send_response(handler, 200, then, headers={"Content-Type": "text/html; charset=utf-8"})
            else:
                send_response(
                    handler, status, b"slow down", headers={"Content-Type": "text/plain", "Retry-After": seconds}
                )

        return self.route(path, respond)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                with server._lock:
                    server.hits[self.path] += 1
                    server.hit_times[self.path].append(time.monotonic())
                responder = server.routes.get(self.path)
                if responder is None:
                    send_response(
                        self,
                        404,
                        b"<html><body><h1>404 Not Found</h1></body></html>",
                        headers={"Content-Type": "text/html"},
                    )
                    return
                responder(self)

        return Handler


# --- pages and feeds -----------------------------------------------------------------------------


def article_path(article_id: str, slug: str = "story") -> str:
    return f"/en/politics/{slug}-{article_id}/{article_id}"


def article_html(
    article_id: str,
    *,
    printed: str = "05.04.2025",
    paragraphs: Iterable[str] | None = None,
    canonical_path: str | None = None,
    title: str | None = None,
) -> bytes:
    """An AA page in the legacy layout (dates printed without a time, as the site did)."""
    texts = list(paragraphs) if paragraphs is not None else [f"Paragraph {n} of story {article_id}." for n in range(3)]
    canonical = "https://www.aa.com.tr" + (canonical_path or article_path(article_id))
    body = "".join(f"<p>{text}</p>" for text in texts)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<link rel='canonical' href='{canonical}'><title>Story {article_id}</title></head><body>"
        "<div class='detay-spot-category'>"
        f"<h1>{title or 'Story ' + article_id}</h1><h4>Lede of {article_id}</h4>"
        f"<span>Reporter |</span><span class='tarih'>{printed}</span></div>"
        f"<div class='detay-icerik'><h6>ANKARA</h6>{body}</div></body></html>"
    ).encode()


def many_paragraphs_html(article_id: str, count: int) -> bytes:
    """The 550,000-<p> page: small on the wire, huge once parsed."""
    head = article_html(article_id, paragraphs=[]).split(b"<h6>ANKARA</h6>")[0] + b"<h6>ANKARA</h6>"
    return head + b"<p>x</p>" * count + b"</div></body></html>"


def rss(base_url: str, items: Iterable[tuple[str, str]]) -> bytes:
    """A feed of (path, RFC 822 pubDate) items on `base_url`."""
    entries = "".join(
        f"<item><title>t</title><link>{base_url}{path}</link><pubDate>{published}</pubDate></item>"
        for path, published in items
    )
    channel = f"<channel><title>f</title>{entries}</channel>"
    return f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0">{channel}</rss>'.encode()


def not_gzip(body: bytes) -> bytes:
    """What a server claiming gzip sends when it is not: the plain bytes with a broken gzip header."""
    return b"\x1f\x8b\x08\x00garbage" + body


def gzip_bytes(body: bytes) -> bytes:
    return gzip.compress(body)
