"""PoliteFetcher against a real HTTP server on loopback that injects faults."""

from __future__ import annotations

import time

import pytest

from wirestance.fetch import FetchError, PoliteFetcher, decode_body
from wirestance.replay import ReplayServer
from wirestance.settings import Settings


def fetcher_for(server: ReplayServer, settings: Settings, **kwargs) -> PoliteFetcher:
    return PoliteFetcher(settings, ["127.0.0.1"], **kwargs)


def test_plain_get_sends_user_agent_with_contact(server, fast_settings):
    with fetcher_for(server, fast_settings) as f:
        result = f.get(server.base_url + "/page")
    assert result.status == 200
    assert "Türkiye" in decode_body(result.body, result.declared_charset)
    page_request = next(r for r in server.requests if r["path"] == "/page")
    assert page_request["user-agent"].startswith("wirestance/")
    assert fast_settings.contact in page_request["user-agent"]


def test_robots_txt_is_fetched_once_and_obeyed(server, fast_settings):
    with fetcher_for(server, fast_settings) as f:
        f.get(server.base_url + "/page")
        with pytest.raises(FetchError, match=r"robots\.txt"):
            f.get(server.base_url + "/private/x")
    assert server.hits["/robots.txt"] == 1
    assert server.hits["/private/x"] == 0


@pytest.mark.parametrize("fault", ["500", "503", "reset", "truncate", "timeout"])
def test_transient_faults_are_retried(server, fast_settings, fault):
    server.inject("/page", fault)
    with fetcher_for(server, fast_settings) as f:
        result = f.get(server.base_url + "/page")
    assert result.status == 200
    assert server.hits["/page"] == 2


def test_429_honours_retry_after(server, fast_settings):
    server.inject("/page", "429")
    with fetcher_for(server, fast_settings) as f:
        started = time.monotonic()
        result = f.get(server.base_url + "/page")
        elapsed = time.monotonic() - started
    assert result.status == 200
    assert elapsed >= 0.95  # Retry-After: 1, although the backoff base is 10 ms


def test_gives_up_after_max_attempts_and_says_why(server, fast_settings):
    server.inject("/page", "500", "500", "500")
    with fetcher_for(server, fast_settings) as f, pytest.raises(FetchError, match=r"3 attempts: HTTP 500"):
        f.get(server.base_url + "/page")


def test_redirect_off_domain_is_refused(server, fast_settings):
    server.inject("/page", "redirect-offsite")
    with fetcher_for(server, fast_settings) as f, pytest.raises(FetchError, match=r"evil\.example\.net"):
        f.get(server.base_url + "/page")


def test_redirect_on_domain_is_followed(server, fast_settings):
    server.inject("/page", "redirect-onsite")
    with fetcher_for(server, fast_settings) as f:
        result = f.get(server.base_url + "/page")
    assert result.status == 200
    assert result.final_url.endswith("/page?from=redirect")


def test_body_size_limit(server, fast_settings):
    server.inject("/page", "huge")
    with fetcher_for(server, fast_settings) as f, pytest.raises(FetchError, match="limit"):
        f.get(server.base_url + "/page")


def test_non_http_scheme_and_foreign_host_refused(fast_settings):
    with PoliteFetcher(fast_settings, ["aa.com.tr"]) as f:
        with pytest.raises(FetchError, match="not http"):
            f.get("file:///etc/passwd")
        with pytest.raises(FetchError, match="outside"):
            f.get("https://example.org/x")


def test_conditional_get_uses_etag(server, fast_settings):
    with fetcher_for(server, fast_settings) as f:
        first = f.get(server.base_url + "/feed?cat=a", conditional=True)
        second = f.get(server.base_url + "/feed?cat=a", conditional=True)
    assert first.status == 200 and not first.not_modified
    assert second.status == 304 and second.not_modified
    assert server.requests[-1]["if-none-match"] == first.headers["etag"]


def test_wrong_charset_header_still_decodes_utf8(server, fast_settings):
    server.inject("/page", "latin1-header")
    with fetcher_for(server, fast_settings) as f:
        result = f.get(server.base_url + "/page")
    assert result.declared_charset == "iso-8859-1"
    assert "Türkiye’de şarj" in decode_body(result.body, result.declared_charset)


def test_per_host_delay_spaces_requests(server, fast_settings):
    from dataclasses import replace

    settings = replace(fast_settings, per_host_delay=0.2)
    with fetcher_for(server, settings) as f:
        started = time.monotonic()
        for _ in range(3):
            f.get(server.base_url + "/page")
        elapsed = time.monotonic() - started
    assert elapsed >= 0.6  # robots.txt + 3 pages: at least 3 gaps of 0.2 s
