"""Subcommands: ingest, demo, reclassify, summary (parse is in cli/parse.py)."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wirestance.cli import CliError

if TYPE_CHECKING:
    from wirestance.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ingest", help="ingest a source's feeds over a time window into the lake")
    p.add_argument("--since", required=True, type=moment, help=SINCE_HELP)
    p.add_argument("--until", type=moment, help=UNTIL_HELP)
    p.add_argument("--source", action="append", dest="sources", help="source (repeatable; default: every enabled one)")
    p.add_argument("--category", action="append", dest="categories", help="feed category (repeatable)")
    p.add_argument("--feed-url", action="append", dest="feed_urls", help="read this feed instead (repeatable)")
    p.add_argument("--base-url", help="replace the site's origin (a mirror or the offline sample)")
    p.add_argument("--reprocess", action="store_true", help="replace stored articles even if unchanged")
    p.add_argument("--lake", help="lake path or fsspec URL (default: $WIRESTANCE_LAKE_URL or data/lake)")
    p.set_defaults(handler=_ingest)

    p = sub.add_parser("demo", help="serve the bundled offline sample on loopback, ingest it, print a summary")
    p.add_argument("--lake", help="lake path or fsspec URL (default: data/lake)")
    p.add_argument(
        "--sample", action="append", dest="samples", help="folder under data/samples/ (repeatable; default: all)"
    )
    p.set_defaults(handler=_demo)

    p = sub.add_parser("reclassify", help="relabel stored paragraphs with the champion model (idempotent)")
    p.add_argument("--lake", help="lake path or fsspec URL")
    p.set_defaults(handler=_reclassify)

    p = sub.add_parser("summary", help="print counts per category and per day, and a few rows, of the lake")
    p.add_argument("--lake", help="lake path or fsspec URL")
    p.add_argument(
        "--as-of",
        type=as_of,
        help="the lake as it was: a version of the articles table (see `wirestance lake history`) or a time",
    )
    p.set_defaults(handler=_summary)


#: The window rule of every command, as --since/--until of ingest and reprocess say it.
SINCE_HELP = (
    "first day (YYYY-MM-DD; both days included, in the source's own time zone), or an exact start "
    "(ISO datetime; UTC if no offset)"
)
UNTIL_HELP = (
    "last day (YYYY-MM-DD; both days included, in the source's own time zone), or an exact end, excluded "
    "(ISO datetime; UTC if no offset); default: now"
)


def moment(text: str) -> datetime | date:
    """An argparse type: an ISO 8601 day (kept a `date`: its time zone is the source's, known later) or a
    datetime (UTC when it has no offset)."""
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date or datetime") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def as_of(text: str) -> int | datetime:
    """An argparse type: a table version (an integer) or an ISO 8601 time (UTC when it has no offset; a day is
    its first moment in UTC)."""
    if text.isdigit():
        return int(text)
    value = moment(text)
    return value if isinstance(value, datetime) else datetime.combine(value, time.min, tzinfo=UTC)


def _day_start(value: datetime | date, sources: list[str] | None, *, after: bool = False) -> datetime:
    """A datetime as given; a day's first moment (or, with `after`, the next day's) in the source's time zone."""
    if isinstance(value, datetime):
        return value
    from wirestance.report.data import source_timezone
    from wirestance.sources import enabled_source_names

    zone = source_timezone((sources or enabled_source_names())[0])
    day = value + timedelta(days=1) if after else value
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def settings_from(args: argparse.Namespace, **defaults: Any) -> Settings:
    """The environment's settings (WIRESTANCE_*), with the command line's --lake and --raw over them.

    `defaults` apply where the environment does not set the value either."""
    from wirestance.settings import Settings

    unset = {name: value for name, value in defaults.items() if f"WIRESTANCE_{name.upper()}" not in os.environ}
    given = {name: getattr(args, arg, None) for name, arg in (("lake_url", "lake"), ("raw_url", "raw"))}
    return Settings.from_env(**unset, **{name: value for name, value in given.items() if value})


def checked_window_end(args: argparse.Namespace) -> datetime:
    """The end of the --since/--until window (default now), after checking it and the --source names; a day
    given to --since becomes its first moment in the source's time zone (in `args.since` too)."""
    args.since = _day_start(args.since, args.sources)
    until: datetime = _day_start(args.until, args.sources, after=True) if args.until else datetime.now(UTC)
    if until <= args.since:
        raise CliError(f"--until {until.isoformat()} is not after --since {args.since.isoformat()}")
    from wirestance.sources import get_source

    for name in args.sources or []:
        try:
            get_source(name)
        except ValueError as exc:
            raise CliError(str(exc)) from None
    return until


def _ingest(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    until = checked_window_end(args)
    check_storage_writable(settings)
    from wirestance.flows.ingest import ingest

    rows = ingest(
        start=args.since,
        end=until,
        sources=args.sources,
        categories=args.categories,
        feed_base_url=args.base_url,
        feed_urls=args.feed_urls,
        reprocess=args.reprocess,
        settings=settings,
    )
    print_rows(rows)
    return 0


def check_storage_writable(settings: Settings, *, raw: bool = True) -> None:
    """A lake (or raw archive, with `raw`) that cannot be written (read-only, full) stops a command at once,
    in one line, instead of a run of failures and a traceback."""
    from wirestance.durable import unwritable_reason

    roots = [("lake", settings.lake_url)] + ([("raw archive", settings.raw_url)] if raw else [])
    for name, url in roots:
        reason = unwritable_reason(url)
        if reason is not None:
            raise CliError(f"the {name} {reason}")


def _demo(args: argparse.Namespace) -> int:
    from wirestance.replay import ReplayServer, ReplaySite
    from wirestance.sources import registry

    # Our own loopback server: no need to wait a second between requests as we would for a real host.
    settings = settings_from(args, per_host_delay=0.01)
    samples = Path(settings.samples_dir)
    if args.samples:
        folders = [samples / name for name in args.samples]
    else:
        folders = sorted((d for d in samples.iterdir() if (d / "manifest.json").is_file()), reverse=True)
    missing = [str(f) for f in folders if not (f / "manifest.json").is_file()]
    if missing or not folders:
        raise CliError(f"{', '.join(missing) or samples}: no manifest.json; is the sample site there?")
    # One loopback server for every site (their paths do not collide); each site is its agency's source.
    sites, names = [], []
    for folder in folders:
        site = ReplaySite(folder)
        source = registry().for_url(site.origin)
        if source is None or source.name not in registry().sources:
            reason = registry().skipped.get(source.name, "") if source else f"no source declared for {site.origin}"
            print(f"sample {folder.name} left out: {reason}")
            continue
        sites.append(site)
        names.append(source.name)
    if not sites:
        raise CliError("no sample site has an available source")
    check_storage_writable(settings)
    from wirestance.flows.ingest import ingest

    with ReplayServer(*sites) as server:
        print(f"serving the offline samples {', '.join(s.folder.name for s in sites)} on {server.base_url}")
        rows = ingest(
            start=datetime(2000, 1, 1, tzinfo=UTC),
            end=datetime.now(UTC) + timedelta(days=1),
            sources=names,
            feed_base_url=server.base_url,
            settings=settings,
        )
    print_rows(rows)
    print(f"\nlake: {settings.lake_url}")
    _print_summary(settings.lake_url)
    return 0


def _reclassify(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    check_storage_writable(settings, raw=False)
    from wirestance.cli.progress import print_summary, progress_bar
    from wirestance.flows.reclassify import PARTITION_LISTENERS, reclassify
    from wirestance.lake import Lake

    partitions = len(Lake(settings.lake_url).partitions("paragraphs"))
    with progress_bar("reclassify", partitions, "partitions") as advance:
        PARTITION_LISTENERS.append(advance)
        try:
            summary = reclassify(settings=settings)
        finally:
            PARTITION_LISTENERS.remove(advance)
    print(
        f"relabelled {summary['paragraphs_relabelled']} paragraphs in {summary['partitions_rewritten']} "
        f"partitions with model {summary['model_version']}"
    )
    print_summary(
        "Reclassified",
        [
            ("model", summary["model_version"]),
            ("paragraphs relabelled", summary["paragraphs_relabelled"]),
            ("partitions rewritten", f"{summary['partitions_rewritten']} of {partitions}"),
            ("stored in the lake at", settings.lake_url),
        ],
    )
    return 0


def _summary(args: argparse.Namespace) -> int:
    lake_url = settings_from(args).lake_url
    if "://" not in lake_url and not Path(lake_url).exists():
        raise CliError(f"no lake at {lake_url}; give --lake or set WIRESTANCE_LAKE_URL")
    try:
        _print_summary(lake_url, as_of=args.as_of)
    except ValueError as exc:  # a version the table does not have
        raise CliError(str(exc)) from None
    return 0


def print_rows(rows: list[dict]) -> None:
    """Summary rows of a run as a right-aligned table."""
    if not rows:
        print("nothing ingested")
        return
    columns = list(rows[0])
    print("\n" + "  ".join(f"{c:>12}" for c in columns))
    for row in rows:
        print("  ".join(f"{row[c]!s:>12}" for c in columns))


def _print_summary(lake_url: str, as_of: int | datetime | None = None) -> None:
    from wirestance.lake import Lake

    lake = Lake(lake_url, as_of=as_of)
    if as_of is not None:
        when = as_of if isinstance(as_of, int) else as_of.isoformat()
        print(f"as of {when} (articles version {lake.version('articles')})")
    articles = lake.read("articles").to_pandas()
    paragraphs = lake.read("paragraphs", columns=["article_id", "source", "label", "model_version"]).to_pandas()
    if articles.empty:
        print("the lake is empty")
        return
    print(f"\n{len(articles)} articles, {len(paragraphs)} paragraphs")
    print("\narticles per source:")
    print(articles.groupby("source").size().to_string())
    if not paragraphs.empty:
        print("\nparagraphs per source and stance label:")
        print(paragraphs.groupby(["source", "label"]).size().unstack(fill_value=0).to_string())
    print("\narticles per category:")
    print(articles.groupby("category", dropna=False).size().to_string())
    print("\narticles per day:")
    print(articles.groupby("published_date").size().to_string())
    if not paragraphs.empty:
        print("\nparagraphs per stance label:")
        print(paragraphs.groupby("label").size().to_string())
    print("\nnewest articles:")
    newest = articles.sort_values("published", ascending=False).head(5)
    for row in newest.itertuples():
        print(f"  {row.published_date}  {row.category or '-':<9} {row.title[:80]}")
