"""Single responses no fetch may survive as an exception: each is a FetchError naming the URL and the
reason, within a stated time, after the stated number of requests."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from hostile import HostileServer, article_html, not_gzip

from wirestance.fetch import FetchError, PoliteFetcher
from wirestance.settings import Settings


def fetch_error(fetcher: PoliteFetcher, url: str) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetcher.get(url)
    assert caught.value.url == url
    return caught.value


@pytest.mark.parametrize(
    ("location", "reason"),
    [("http://127.0.0.1:99999/", "Port out of range"), ("http://[::1", "Invalid IPv6 URL")],
)
def test_redirect_to_an_invalid_url_is_a_fetch_error(hostile: HostileServer, settings: Settings, location, reason):
    url = hostile.page("/moved", b"", status=302, headers={"Location": location})
    with PoliteFetcher(settings, ["127.0.0.1"]) as fetcher:
        error = fetch_error(fetcher, url)
    assert "invalid URL" in error.reason and reason in error.reason
    assert hostile.hits["/moved"] == 1


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_body_that_is_not_its_content_encoding(hostile: HostileServer, settings: Settings, encoding: str):
    url = hostile.page("/packed", not_gzip(article_html("1")), headers={"Content-Encoding": encoding})
    with PoliteFetcher(settings, ["127.0.0.1"]) as fetcher:
        error = fetch_error(fetcher, url)
    assert f"content-encoding: {encoding}" in error.reason.lower()
    assert hostile.hits["/packed"] == 1  # the same bytes again would not decode either: no retry


def test_two_different_content_lengths(hostile: HostileServer, settings: Settings):
    url = hostile.raw(
        "/lengths",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 10\r\nContent-Length: 20\r\n\r\n0123456789",
    )
    with PoliteFetcher(settings, ["127.0.0.1"]) as fetcher:
        error = fetch_error(fetcher, url)
    assert "Content-Length" in error.reason


@pytest.mark.parametrize("in_headers", [False, True], ids=["slow-body", "slow-headers"])
def test_slowloris_is_cut_at_the_whole_response_deadline(hostile: HostileServer, settings: Settings, in_headers):
    # A byte every 0.4 s never trips the 2 s read timeout; the 1.5 s whole-response deadline stops it.
    url = hostile.trickle("/slow", article_html("1"), 0.4, in_headers=in_headers)
    started = time.monotonic()
    with PoliteFetcher(Settings(**{**settings.__dict__, "request_deadline": 1.5}), ["127.0.0.1"]) as fetcher:
        error = fetch_error(fetcher, url)
    elapsed = time.monotonic() - started
    assert "1.5 s deadline" in error.reason
    assert elapsed < 2.5, elapsed
    assert hostile.hits["/slow"] == 1  # a deadline is not retried


def test_close_delimited_body_cut_by_the_deadline_is_not_whole(hostile: HostileServer, settings: Settings):
    def respond(handler) -> None:
        handler.close_connection = True
        handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n<html>")
        handler.wfile.flush()
        for _ in range(40):
            if hostile.stopping.wait(0.2):
                return
            handler.wfile.write(b"<p>x</p>")
            handler.wfile.flush()

    url = hostile.route("/endless", respond)
    with PoliteFetcher(Settings(**{**settings.__dict__, "request_deadline": 1.0}), ["127.0.0.1"]) as fetcher:
        error = fetch_error(fetcher, url)
    assert "deadline" in error.reason


def test_retry_after_beyond_the_cap_pauses_the_host_for_every_worker(hostile: HostileServer, settings: Settings):
    """20 URLs answering Retry-After: 86400: one request, then every URL fails at once, none is asked."""
    urls = [hostile.retry_after(f"/busy/{n}", "86400") for n in range(20)]
    started = time.monotonic()
    with PoliteFetcher(settings, ["127.0.0.1"]) as fetcher, ThreadPoolExecutor(max_workers=4) as pool:

        def attempt(url: str) -> str:
            try:
                fetcher.get(url)
            except FetchError as exc:
                return exc.reason
            return "fetched"

        reasons = list(pool.map(attempt, urls))
    elapsed = time.monotonic() - started
    assert all("host asked us to wait 86400 s" in reason for reason in reasons), reasons
    asked = sum(hostile.hits[f"/busy/{n}"] for n in range(20))
    assert asked <= 4, asked  # at most the requests already in flight when the first answer came
    assert elapsed < 2.0, elapsed


def test_retry_after_within_the_cap_pauses_every_worker_then_fetches(hostile: HostileServer, settings: Settings):
    page = article_html("1")
    first = hostile.retry_after("/first", "1", status=503, then=page)
    others = [hostile.page(f"/other/{n}", page) for n in range(3)]
    with PoliteFetcher(settings, ["127.0.0.1"]) as fetcher:
        fetched = fetcher.get(first)  # 503 Retry-After: 1, then the page
        assert fetched.status == 200
        paused_at = hostile.hit_times["/first"][0]
        done = threading.Event()
        results: list[int] = []

        def worker(url: str) -> None:
            results.append(fetcher.get(url).status)
            done.set()

        threads = [threading.Thread(target=worker, args=(url,)) for url in others]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    assert results == [200, 200, 200]
    assert hostile.hit_times["/first"][1] - paused_at >= 0.95
    # Every other request to the host also waited out the pause the 503 asked for.
    assert all(hostile.hit_times[f"/other/{n}"][0] - paused_at >= 0.95 for n in range(3))


def test_retry_after_storm_stops_at_the_hosts_budget(hostile: HostileServer, settings: Settings):
    """Every URL answers 429 Retry-After: 1; with a 2 s budget the host stops being asked after ~2 s."""
    urls = [hostile.retry_after(f"/storm/{n}", "1") for n in range(30)]
    started = time.monotonic()
    budgeted = Settings(**{**settings.__dict__, "retry_after_budget": 2.0, "max_attempts": 4})
    reasons = []
    with PoliteFetcher(budgeted, ["127.0.0.1"]) as fetcher:
        for url in urls:
            with pytest.raises(FetchError) as caught:
                fetcher.get(url)
            reasons.append(caught.value.reason)
    elapsed = time.monotonic() - started
    assert elapsed < 5.0, elapsed
    assert all("host asked us to wait 1 s" in reason for reason in reasons[2:]), reasons
    assert sum(hostile.hits.values()) - hostile.hits["/robots.txt"] <= 8


def test_robots_txt_wildcards_and_longest_match(hostile: HostileServer, settings: Settings):
    hostile.page(
        "/robots.txt",
        b"User-agent: *\nDisallow: /private/\nAllow: /private/open$\nDisallow: /*.pdf$\n",
        content_type="text/plain",
    )
    page = article_html("1")
    for path in ("/private/open", "/private/closed", "/doc.pdf", "/doc.pdf?inline=1"):
        hostile.page(path, page)
    with PoliteFetcher(settings, ["127.0.0.1"]) as fetcher:
        assert fetcher.get(hostile.base_url + "/private/open").status == 200  # the longer Allow wins
        assert fetcher.get(hostile.base_url + "/doc.pdf?inline=1").status == 200  # `$` anchors the end
        for path in ("/private/closed", "/doc.pdf"):
            assert "disallowed by robots.txt" in fetch_error(fetcher, hostile.base_url + path).reason
    assert hostile.hits["/private/closed"] == hostile.hits["/doc.pdf"] == 0
