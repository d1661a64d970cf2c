"""Subcommands of the raw archive: reprocess."""

from __future__ import annotations

import argparse
import os

from wirestance.cli.ingest import checked_window_end, moment


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "reprocess", help="parse and label again, from the raw WARC archive, the articles published in a window"
    )
    p.add_argument("--since", required=True, type=moment, help="window start (ISO date or datetime; UTC if no offset)")
    p.add_argument("--until", type=moment, help="window end, exclusive (default: now)")
    p.add_argument("--source", action="append", dest="sources", help="source name (repeatable; default anadolu)")
    p.add_argument("--host", action="append", dest="hosts", help="also read pages fetched from this host (a mirror)")
    p.add_argument("--lake", help="lake path or fsspec URL (default: $WIRESTANCE_LAKE_URL or data/lake)")
    p.add_argument("--raw", help="raw archive path or fsspec URL (default: $WIRESTANCE_RAW_URL or data/raw)")
    p.set_defaults(handler=_reprocess)


def _reprocess(args: argparse.Namespace) -> int:
    # Flows read their settings from the environment, so the CLI passes overrides that way too.
    if args.lake:
        os.environ["WIRESTANCE_LAKE_URL"] = args.lake
    if args.raw:
        os.environ["WIRESTANCE_RAW_URL"] = args.raw
    until = checked_window_end(args)
    from wirestance.flows.reprocess import reprocess

    rows = reprocess(start=args.since, end=until, sources=args.sources, hosts=args.hosts)
    for row in rows:
        print("  ".join(f"{key}={value}" for key, value in row.items()))
    return 0
