"""Finding and fetching articles of past dates.

    (wirestance.urls gives one dedup key per article URL: http/https, www/mobile hosts, AMP, queries, Wayback form)
    sitemaps   robots.txt-declared sitemaps, sitemap indexes, news sitemaps, lastmod
    indexes    Internet Archive CDX API and Common Crawl URL index clients
    captures   fetching a candidate live, from its archived capture, or live then archive
    past       all of the above for one source and window (discover_past)
    config     DiscoveryConfig (archive base URLs, methods, fetch mode), from WIRESTANCE_DISCOVERY_*

Import from the submodules.
"""
