"""A loopback HTTP server that replays a stored agency site and injects faults on request.

The offline demo ingests from it, and the tests use it as the real network peer: it speaks plain HTTP/1.1
(ETag / Last-Modified / 304, Retry-After, redirects) and can be told to misbehave per path.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

#: Faults a test can queue for a path; each is used once, in order.
FAULTS = (
    "timeout",  # hold the response for `slow_seconds` before answering
    "429",  # 429 with Retry-After: 1
    "500",
    "503",
    "reset",  # close the connection without an answer
    "truncate",  # announce the whole length, send half, close
    "latin1-header",  # declare charset=iso-8859-1 for a UTF-8 body
    "redirect-offsite",  # 302 to a host outside the source's domains
    "redirect-onsite",  # 302 to the same path with a query string, then the page
    "huge",  # a body larger than any sane limit (declared length only)
    "404",
)


class QuietHandler(BaseHTTPRequestHandler):
    """A keep-alive loopback handler that logs nothing (the servers record what was asked themselves)."""

    protocol_version = "HTTP/1.1"
    # Without it every kept-alive response waits ~40 ms for Nagle's algorithm (measured in bench/).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        return


def send_response(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    content_type: str | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """Send one whole response: status, headers, Content-Length and the body (none when it is empty)."""
    handler.send_response(status)
    if content_type:
        handler.send_header("Content-Type", content_type)
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if body:
        handler.wfile.write(body)


@dataclass(frozen=True)
class Route:
    path: str  # path with query, as requested
    file: Path
    content_type: str


class ReplaySite:
    """The routes of one stored site (a folder with manifest.json)."""

    def __init__(self, folder: Path) -> None:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        self.folder = folder
        self.origin: str = manifest["origin"].rstrip("/")
        self.routes = {r["path"]: Route(r["path"], folder / r["file"], r["content_type"]) for r in manifest["routes"]}


class ReplayServer:
    """Serve one or more `ReplaySite`s on 127.0.0.1 (sites' paths must not collide)."""

    def __init__(self, *sites: ReplaySite, port: int = 0, slow_seconds: float = 3.0) -> None:
        self.sites = sites
        self.routes: dict[str, Route] = {}
        for site in sites:
            self.routes.update(site.routes)
        self.slow_seconds = slow_seconds
        self.hits: Counter[str] = Counter()
        self.requests: list[dict[str, str]] = []
        self._faults: dict[str, deque[str]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def inject(self, path: str, *faults: str) -> None:
        unknown = [f for f in faults if f not in FAULTS]
        if unknown:
            raise ValueError(f"unknown faults {unknown}; known: {FAULTS}")
        with self._lock:
            self._faults[path].extend(faults)

    def start(self) -> ReplayServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="replay-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _next_fault(self, path: str) -> str | None:
        with self._lock:
            queue = self._faults.get(path)
            return queue.popleft() if queue else None

    def _body_for(self, route: Route) -> bytes:
        body = route.file.read_bytes()
        if "xml" in route.content_type:
            # Feeds list the live site's URLs; point them here so the replay is followed end to end.
            for site in self.sites:
                body = body.replace(site.origin.encode(), self.base_url.encode())
        return body

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                path = self.path
                with server._lock:
                    server.hits[path] += 1
                    server.requests.append({"path": path, **{k.lower(): v for k, v in self.headers.items()}})
                fault = server._next_fault(path)
                if fault and self._apply_fault(fault, path):
                    return
                route = server.routes.get(path) or server.routes.get(urlsplit(path).path)
                if route is None:
                    self._send(404, b"<html><body><h1>404 Not Found</h1></body></html>", "text/html")
                    return
                body = server._body_for(route)
                etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                last_modified = formatdate(route.file.stat().st_mtime, usegmt=True)
                if self.headers.get("If-None-Match") == etag:
                    self._send(304, b"", None, {"ETag": etag, "Last-Modified": last_modified})
                    return
                content_type = route.content_type
                if fault == "latin1-header":
                    content_type = content_type.split(";")[0] + "; charset=iso-8859-1"
                self._send(200, body, content_type, {"ETag": etag, "Last-Modified": last_modified})

            def _apply_fault(self, fault: str, path: str) -> bool:
                """Act out `fault`; True when the request has been answered (or dropped) by it."""
                if fault == "timeout":
                    server._stopping.wait(server.slow_seconds)
                    return False
                if fault == "429":
                    self._send(429, b"slow down", "text/plain", {"Retry-After": "1"})
                elif fault in ("500", "503", "404"):
                    self._send(int(fault), b"error", "text/plain")
                elif fault == "reset":
                    self.close_connection = True
                    self.connection.shutdown(2)
                elif fault == "truncate":
                    route = server.routes.get(path)
                    body = server._body_for(route) if route else b"x" * 1000
                    self.send_response(200)
                    self.send_header("Content-Type", route.content_type if route else "text/html")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                elif fault == "redirect-offsite":
                    self._send(302, b"", None, {"Location": "http://evil.example.net" + path})
                elif fault == "redirect-onsite":
                    sep = "&" if "?" in path else "?"
                    self._send(302, b"", None, {"Location": path + sep + "from=redirect"})
                elif fault == "huge":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(1 << 40))
                    self.end_headers()
                    self.close_connection = True
                else:
                    return False
                return True

            def _send(self, status: int, body: bytes, content_type: str | None, headers: dict | None = None) -> None:
                send_response(self, status, body, content_type, headers)

        return Handler


def wait_until_up(base_url: str, timeout: float = 5.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(base_url + "/robots.txt", timeout=1).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
