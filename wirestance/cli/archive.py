"""Subcommands of the raw archive: reprocess."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING, Any

from wirestance.cli.ingest import (
    SINCE_HELP,
    UNTIL_HELP,
    check_storage_writable,
    checked_window_end,
    moment,
    settings_from,
)

if TYPE_CHECKING:
    from wirestance.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "reprocess", help="parse and label again, from the raw WARC archive, the articles published in a window"
    )
    p.add_argument("--since", required=True, type=moment, help=SINCE_HELP)
    p.add_argument("--until", type=moment, help=UNTIL_HELP)
    p.add_argument("--source", action="append", dest="sources", help="source (repeatable; default: every enabled one)")
    p.add_argument("--host", action="append", dest="hosts", help="also read pages fetched from this host (a mirror)")
    p.add_argument("--lake", help="lake path or fsspec URL (default: $WIRESTANCE_LAKE_URL or data/lake)")
    p.add_argument("--raw", help="raw archive path or fsspec URL (default: $WIRESTANCE_RAW_URL or data/raw)")
    p.add_argument(
        "--reparse",
        action="store_true",
        help="parse every archived page again, also those whose stored article is current (after changing the "
        "screening limits, such as WIRESTANCE_MAX_PARAGRAPHS)",
    )
    p.set_defaults(handler=_reprocess)


def _reprocess(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    until = checked_window_end(args)
    check_storage_writable(settings, raw=False)
    from wirestance.cli.progress import print_summary, progress_bar
    from wirestance.flows.reprocess import PAGE_LISTENERS, reprocess
    from wirestance.sources import enabled_source_names

    sources = args.sources or enabled_source_names()
    pages = _archived_pages(settings, sources, args.hosts or [])
    with progress_bar("reprocess", pages, "archived pages") as advance:
        PAGE_LISTENERS.append(advance)
        try:
            rows = asyncio.run(
                reprocess(
                    start=args.since,
                    end=until,
                    sources=sources,
                    hosts=args.hosts,
                    settings=settings,
                    reparse=args.reparse,
                )
            )
        finally:
            PAGE_LISTENERS.remove(advance)
    for row in rows:
        print("  ".join(f"{key}={value}" for key, value in row.items()))
        if not row.get("responses"):
            print(_no_records_hint(settings, row, args.hosts or []))
    print_summary(
        "Reprocessed from the raw archive",
        [
            ("window", f"{args.since.isoformat()} to {until.isoformat()} (end excluded)"),
            ("articles", sum(int(row.get("articles", 0)) for row in rows)),
            ("failures", sum(int(row.get("failed", 0)) for row in rows)),
            ("read from", settings.raw_url),
            ("stored in the lake at", settings.lake_url),
        ],
    )
    return 0


def _archived_pages(settings: Settings, sources: list[str], hosts: list[str]) -> int:
    """How many archived responses of the sources (and `hosts`) a reprocess reads: the bar's total."""
    from wirestance.archive.reader import ArchiveReader
    from wirestance.lake import Lake
    from wirestance.sources import get_source

    total = 0
    try:
        with ArchiveReader(settings.raw_url, Lake(settings.lake_url)) as reader:
            for name in sources:
                domains = [*get_source(name).allowed_domains, *hosts]
                statuses = reader.index(domains=domains, columns=["status"]).column("status").to_pylist()
                total += sum(1 for status in statuses if status in (200, 206))
    except Exception:  # no archive yet: the bar has nothing to count, the command says why below
        return 0
    return total


def _no_records_hint(settings: Settings, row: dict[str, Any], hosts: list[str]) -> str:
    """What to do when a source's summary row counts no archived article page: if pages of its domains and
    `hosts` were read but none is an article its parser knows (--host pages of another site), say so and
    point to --source; else list the hosts the archive has pages of that were not given, for --host."""
    from wirestance.archive.reader import ArchiveReader
    from wirestance.lake import Lake
    from wirestance.sources import get_source

    source_name = str(row.get("source", ""))
    domains = ", ".join([*get_source(source_name).allowed_domains, *hosts])
    not_articles = int(row.get("not_article", 0))
    if not_articles:
        return (
            f"no archived article pages of {source_name}: the {not_articles:,} archived pages read from "
            f"{domains} are not articles its parser knows (pages of another site?); choose the sources of "
            "those pages with --source"
        )
    try:
        with ArchiveReader(settings.raw_url, Lake(settings.lake_url)) as reader:
            found = sorted({h for h in reader.index(columns=["host"]).column("host").to_pylist() if h})
    except Exception as exc:  # the hint is a courtesy: never fail the command over it
        return f"no archived article pages of {source_name} ({domains}); the archive could not be listed: {exc}"
    if not found:
        return f"no archived article pages of {source_name} ({domains}): the raw archive at {settings.raw_url} is empty"
    others = [host for host in found if host not in hosts]
    if not others:
        return (
            f"no archived article pages of {source_name} ({domains}): the raw archive holds no successful "
            "response (status 200 or 206) of these hosts"
        )
    return (
        f"no archived article pages of {source_name} ({domains}); the raw archive has pages of these hosts: "
        f"{', '.join(others)}; select one with --host, e.g. --host {others[0]}"
    )
