"""Subcommands: report (HTML + PNG charts of the stance shares), export (flat table), sample serve."""

from __future__ import annotations

import argparse
import signal
import threading
from datetime import date
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from wirestance.cli import CliError
from wirestance.cli.ingest import as_of  # the one --as-of parser, summary's

if TYPE_CHECKING:
    from wirestance.lake import Lake

#: Said in the help of every --since/--until pair of days.
DAYS_RULE = "both days included, in each source's own time zone"
#: Port of `wirestance sample serve` unless told otherwise: the trigger hint of `wirestance serve` names it.
SAMPLE_PORT = 8765


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="write an HTML page (and PNG charts) of each side's share of the coverage per week or month",
        description="Each side's share of the paragraphs of on-topic articles per period, per agency and "
        f"overall, with the counts behind each period and the most confident paragraphs. Days: {DAYS_RULE}.",
    )
    _window_arguments(p)
    p.add_argument("--by", choices=("week", "month"), default="week", help="period of the charts (default week)")
    p.add_argument(
        "--out",
        default=None,
        help="folder to write into (default: $WIRESTANCE_REPORTS_DIR, or reports/ beside the lake)",
    )
    p.add_argument("--no-png", action="store_true", help="write only the HTML page")
    p.set_defaults(handler=_report)

    p = sub.add_parser(
        "export",
        help="write the labelled paragraphs with their articles as one flat table (csv, parquet or xlsx)",
        description="One row per paragraph: source, article_id, title, url, published_date, para_index, text, "
        f"label, confidence, model_version, parser_version and the probabilities. Days: {DAYS_RULE}.",
    )
    _window_arguments(p)
    p.add_argument("--format", dest="fmt", choices=("csv", "parquet", "xlsx"), help="default: from --out's suffix")
    p.add_argument("--out", required=True, help="file to write")
    p.add_argument("--on-topic", action="store_true", help="only articles on the dispute's topic")
    p.set_defaults(handler=_export)

    p = sub.add_parser("sample", help="the bundled offline sample site")
    sample = p.add_subparsers(dest="sample_command", required=True, metavar="SAMPLE_COMMAND")
    serve = sample.add_parser(
        "serve",
        help="serve the offline sample on loopback and print the base URL for a backfill's feed_base_url or "
        "--base-url (Ctrl-C stops it)",
    )
    serve.add_argument("--sample", default="anadolu_en", help="folder under data/samples/ (default anadolu_en)")
    serve.add_argument(
        "--port", type=int, default=SAMPLE_PORT, help=f"port on 127.0.0.1 (default {SAMPLE_PORT}; 0: any free one)"
    )
    serve.set_defaults(handler=_sample_serve)


def _window_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--since", type=day, help=f"first day, YYYY-MM-DD ({DAYS_RULE}; default: the first stored day)")
    p.add_argument("--until", type=day, help=f"last day, YYYY-MM-DD ({DAYS_RULE}; default: the last stored day)")
    p.add_argument("--source", action="append", dest="sources", help="source name (repeatable; default: all)")
    p.add_argument("--lake", help="lake path or fsspec URL (default: $WIRESTANCE_LAKE_URL or data/lake)")
    p.add_argument(
        "--as-of",
        type=as_of,
        help="read the lake as it was: a version of the articles table (see `wirestance lake history`) or a time "
        "(ISO 8601, UTC if no offset), e.g. the labels before the last reclassify",
    )


def day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _checked(args: argparse.Namespace) -> str:
    """The lake URL, after checking the window and the source names."""
    from wirestance.settings import Settings
    from wirestance.sources import get_source

    if args.since and args.until and args.until < args.since:
        raise CliError(f"--until {args.until} is before --since {args.since} ({DAYS_RULE})")
    for name in args.sources or []:
        try:
            get_source(name)
        except ValueError as exc:
            raise CliError(str(exc)) from None
    lake_url: str = args.lake or Settings.from_env().lake_url
    if "://" not in lake_url and not Path(lake_url).exists():
        raise CliError(f"no lake at {lake_url}; give --lake or set WIRESTANCE_LAKE_URL")
    return lake_url


def _lake(args: argparse.Namespace, lake_url: str) -> tuple[Lake, str | None]:
    """The lake to read (as it was, with --as-of) and, with --as-of, the moment read, as the user is told it."""
    from wirestance.lake import Lake

    lake = Lake(lake_url, as_of=args.as_of)
    if args.as_of is None:
        return lake, None
    try:
        version = lake.version("articles")
    except ValueError as exc:  # a version the table does not have
        raise CliError(str(exc)) from None
    if isinstance(args.as_of, int):
        said = f"version {args.as_of} of the articles table"
    elif version is None:
        said = f"{args.as_of.isoformat()} (before the first write: the lake was empty)"
    else:
        said = f"{args.as_of.isoformat()} (version {version} of the articles table)"
    print(f"as of {said}")
    return lake, said


def _report(args: argparse.Namespace) -> int:
    from wirestance.report import load_paragraphs, summarize, write_report

    lake_url = _checked(args)
    lake, past = _lake(args, lake_url)
    paragraphs = load_paragraphs(lake, args.since, args.until, args.sources)
    summary = summarize(paragraphs, args.by, args.since, args.until)
    from wirestance.report.data import reports_dir
    from wirestance.settings import Settings

    out = Path(args.out) if args.out else reports_dir(Settings.from_env(lake_url=lake_url))
    version = lake.version("articles") if past is not None else None
    files = write_report(summary, out, png=not args.no_png, lake_version=version, as_of=past)
    if summary.empty:
        print("no labelled paragraphs of on-topic articles in this window; the page says so")
    else:
        agencies = f"{len(summary.sources)} agencies" if len(summary.sources) > 1 else "1 agency"
        print(f"{summary.n_articles} articles, {summary.n_paragraphs} paragraphs, {agencies}")
        print(summary.overall_shares().to_string(index=False, float_format=lambda x: f"{x:.0%}"))
    print(f"\nreport: {files.html}")
    for png in files.pngs:
        print(f"chart:  {png}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from wirestance.report import EXPORT_FORMATS, load_paragraphs, write_export

    fmt = args.fmt or Path(args.out).suffix.lstrip(".").lower()
    if fmt not in EXPORT_FORMATS:
        raise CliError(f"give --format {'|'.join(EXPORT_FORMATS)} (the suffix of {args.out} says none of them)")
    lake_url = _checked(args)
    lake, _ = _lake(args, lake_url)
    paragraphs = load_paragraphs(lake, args.since, args.until, args.sources, on_topic_only=args.on_topic)
    try:
        rows = write_export(paragraphs, args.out, fmt)
    except (ValueError, OSError) as exc:
        raise CliError(str(exc)) from None
    print(
        f"wrote {rows} paragraphs of {paragraphs[['source', 'article_id']].drop_duplicates().shape[0]} articles "
        f"to {args.out} ({fmt})"
    )
    return 0


def _sample_serve(args: argparse.Namespace) -> int:
    from wirestance.replay import ReplayServer, ReplaySite
    from wirestance.settings import Settings

    folder = Path(Settings.from_env().samples_dir) / args.sample
    if not (folder / "manifest.json").is_file():
        raise CliError(f"{folder}: no manifest.json; is the sample site there?")
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        with ReplayServer(ReplaySite(folder), port=args.port) as server:
            print(f"serving the offline sample {folder.name} on {server.base_url}")
            print(f"base URL: {server.base_url}")
            print("paste it as feed_base_url in a backfill run from the UI, or run")
            print(
                f"  wirestance backfill --since 2019-11-25 --until 2019-11-26 --mode feeds --base-url {server.base_url}"
            )
            print(f"  wirestance ingest --since 2019-11-25 --base-url {server.base_url}")
            print("Ctrl-C stops it.", flush=True)
            while not stop.wait(0.5):
                pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    print("sample server stopped", flush=True)
    return 0
