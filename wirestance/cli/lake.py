"""Subcommands of the lake's upkeep: `wirestance lake maintain|check|restore|migrate|history|rebuild-raw-index`."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from wirestance.cli import CliError


def register(sub: argparse._SubParsersAction) -> None:
    lake = sub.add_parser("lake", help="keep the lake's Delta tables healthy: maintain, check, restore, migrate ...")
    actions = lake.add_subparsers(dest="lake_command", required=True, metavar="ACTION")

    p = actions.add_parser("maintain", help="compact small files, vacuum unreferenced ones, write checkpoints")
    p.add_argument(
        "--retention-hours",
        type=float,
        help="keep unreferenced files this long (default: $WIRESTANCE_LAKE_RETENTION_HOURS or 168)",
    )
    _lake_option(p)
    p.set_defaults(handler=_maintain)

    p = actions.add_parser("check", help="open every data file of every table; list the missing or corrupt ones")
    _lake_option(p)
    p.set_defaults(handler=_check)

    p = actions.add_parser("restore", help="restore each damaged table to its newest version whose files are whole")
    _lake_option(p)
    p.set_defaults(handler=_restore)

    p = actions.add_parser("migrate", help="turn a lake of the earlier parquet layout into Delta tables, in place")
    _lake_option(p)
    p.set_defaults(handler=_migrate)

    p = actions.add_parser("history", help="the commits of a table: version, time, operation (for --as-of)")
    p.add_argument("--table", default="articles", help="articles (default), paragraphs, failures or raw_index")
    p.add_argument("--limit", type=int, default=20, help="newest commits shown (default 20)")
    _lake_option(p)
    p.set_defaults(handler=_history)

    p = actions.add_parser("rebuild-raw-index", help="make the raw_index table again from the WARC files alone")
    p.add_argument("--raw", help="raw archive path or fsspec URL (default: $WIRESTANCE_RAW_URL or data/raw)")
    _lake_option(p)
    p.set_defaults(handler=_rebuild_raw_index)


def _lake_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lake", help="lake path or URL (default: $WIRESTANCE_LAKE_URL or data/lake)")


def _open(args: argparse.Namespace):
    from wirestance.lake import Lake
    from wirestance.settings import Settings

    return Lake(args.lake or Settings.from_env().lake_url)


def _maintain(args: argparse.Namespace) -> int:
    from wirestance.lake.maintain import maintain
    from wirestance.settings import Settings

    retention = args.retention_hours if args.retention_hours is not None else Settings.from_env().lake_retention_hours
    for report in maintain(_open(args), retention_hours=retention):
        print("  ".join(f"{key}={value}" for key, value in report.as_row().items()))
    return 0


def _check(args: argparse.Namespace) -> int:
    from wirestance.lake.maintain import check

    damaged = check(_open(args))
    for problem in damaged:
        print(problem)
    if damaged:
        print(f"{len(damaged)} damaged data file(s): `wirestance lake restore` returns to the last whole version")
        return 1
    print("every data file of every table reads")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from wirestance.lake.maintain import restore

    try:
        reports = restore(_open(args))
    except RuntimeError as exc:
        raise CliError(str(exc)) from None
    for report in reports:
        for problem in report.damaged:
            print(problem)
        if report.restored_to is not None:
            print(f"{report.table}: restored version {report.restored_to} (was {report.restored_from})")
        else:
            print(f"{report.table}: whole, left alone")
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from wirestance.lake.migrate import MigrationCountMismatch, migrate

    try:
        reports = migrate(_open(args))
    except MigrationCountMismatch as exc:
        raise CliError(str(exc)) from None
    for report in reports:
        print("  ".join(f"{key}={value}" for key, value in report.as_row().items()))
    return 0


def _history(args: argparse.Namespace) -> int:
    lake = _open(args)
    try:
        dt = lake.delta_table(args.table)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if dt is None:
        print(f"no {args.table} table yet")
        return 0
    for entry in dt.history(args.limit):
        # To the millisecond: `--as-of` with this time reads this version, the one before it if cut to seconds.
        when = datetime.fromtimestamp(entry["timestamp"] / 1000, tz=UTC).isoformat(timespec="milliseconds")
        metrics = entry.get("operationMetrics") or {}
        added = metrics.get("num_added_rows", metrics.get("num_output_rows", ""))
        print(f"{entry['version']:>6}  {when}  {entry.get('operation', ''):<20} rows added {added}")
    return 0


def _rebuild_raw_index(args: argparse.Namespace) -> int:
    from wirestance.archive.writer import rebuild_raw_index
    from wirestance.settings import Settings

    raw = args.raw or Settings.from_env().raw_url
    files, rows = rebuild_raw_index(raw, _open(args))
    print(f"raw_index rebuilt from {files} WARC file(s): {rows} rows")
    return 0
