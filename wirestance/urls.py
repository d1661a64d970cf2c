"""One URL per article: the key that decides whether two URLs are the same page.

Agency articles are reached by many spellings of one address: http and https, `www.`, mobile hosts
(`m.`, `mobile.`), AMP variants (`/amp/` segments, `?amp=1`), tracking query strings, trailing slashes,
and, from web archives, the Wayback raw form `/web/<timestamp>id_/<url>`. `url_key` maps them all to one
string. It is a dedup key, not necessarily the address the site itself prefers (that is the page's declared
`canonical_url`, which the parsers read).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

# Leading host labels that only select a rendering of the same site.
_VARIANT_LABELS = ("www.", "m.", "mobile.", "amp.")
# Path segments and query parameters that only select the AMP rendering.
_AMP_SEGMENTS = frozenset({"amp"})
_AMP_PARAMS = frozenset({"amp", "outputtype"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# /web/20191126103000id_/https://www.aa.com.tr/... (also without id_, or with other replay flags).
_WAYBACK_PATH = re.compile(r"^/web/(?P<ts>\d{4,14})(?P<flag>[a-z]{2}_)?/(?P<url>.+)$")


@dataclass(frozen=True)
class WaybackAddress:
    """A Wayback Machine capture address taken apart."""

    timestamp: str  # 1 to 14 digits, as written
    raw: bool  # the `id_` form: the page as captured, without the archive's rewriting
    original: str

    @property
    def capture_time(self) -> datetime:
        padded = (self.timestamp + "0101000000")[:14] if len(self.timestamp) < 14 else self.timestamp
        return datetime.strptime(padded, "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def parse_wayback(url: str) -> WaybackAddress | None:
    """The capture a Wayback URL names, or None when `url` is not one."""
    parts = urlsplit(url)
    match = _WAYBACK_PATH.match(parts.path)
    if match is None:
        return None
    original = match.group("url")
    if parts.query:
        original += "?" + parts.query
    if not re.match(r"^https?:/", original, re.IGNORECASE):
        original = "http://" + original
    # Some clients collapse "//" after the scheme inside a path.
    original = re.sub(r"^(https?):/(?!/)", r"\1://", original, flags=re.IGNORECASE)
    return WaybackAddress(match.group("ts"), match.group("flag") == "id_", original)


def url_key(url: str, keep_params: Iterable[str] = ()) -> str:
    """The dedup key of `url`: https, host without www/mobile/amp label, no AMP segments, no fragment,
    no query parameters except `keep_params`, no trailing slash, normalised percent-escapes."""
    wayback = parse_wayback(url)
    if wayback is not None:
        url = wayback.original
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    for label in _VARIANT_LABELS:
        if host.startswith(label) and host.count(".") >= 2:
            host = host[len(label) :]
            break
    netloc = host
    port = parts.port
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{port}"
    if scheme in _DEFAULT_PORTS:
        scheme = "https"  # the same page over http and https is one article
    segments = [_normalise_escapes(s) for s in parts.path.split("/") if s and s.lower() not in _AMP_SEGMENTS]
    path = "/" + "/".join(segments)
    keep = {k.lower() for k in keep_params}
    query_items = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() in keep and k.lower() not in _AMP_PARAMS
    )
    return urlunsplit((scheme, netloc, path, urlencode(query_items), ""))


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _normalise_escapes(segment: str) -> str:
    # %7E and ~ are the same character; re-quote so every spelling of a segment comes out one way.
    return quote(unquote(segment), safe="!$&'()*+,;=:@-._~")
