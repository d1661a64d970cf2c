"""The `wirestance` command. Each submodule registers its own subcommands."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

# Modules that contribute subcommands; each exposes register(subparsers).
_COMMAND_MODULES = (
    "wirestance.cli.ingest",
    "wirestance.cli.parse",
    "wirestance.cli.model",
    "wirestance.cli.label",
    "wirestance.cli.serve",
    "wirestance.cli.archive",
    "wirestance.cli.lake",
    "wirestance.cli.report",
)


def build_parser() -> argparse.ArgumentParser:
    from wirestance import __version__

    parser = argparse.ArgumentParser(prog="wirestance", description=__doc__)
    parser.add_argument("--version", action="version", version=f"wirestance {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # not written yet in this checkout
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Before Prefect is imported: keep its local home (SQLite database) beside the data, in the working
    # directory (the checkout), not in ~.
    os.environ.setdefault("PREFECT_HOME", str(Path.cwd() / ".prefect"))
    os.environ.setdefault("DO_NOT_TRACK", "1")
    # Prefect's temporary server would otherwise try to reach an outside telemetry host.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    parser = build_parser()
    args = parser.parse_args(argv)
    from wirestance.settings import Settings, SettingsError

    try:
        Settings.from_env()  # a bad WIRESTANCE_* value stops every command before it starts
        return int(args.handler(args) or 0)
    except SettingsError as exc:
        print(f"wirestance {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except CliError as exc:
        print(f"wirestance {args.command}: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        from wirestance.sources.registry import SourcesFileError

        if not isinstance(exc, SourcesFileError):
            raise
        print(f"wirestance {args.command}: sources file refused: {exc}", file=sys.stderr)
        return 2


class CliError(Exception):
    """An error the user can act on: printed as one line, exit status 2."""


if __name__ == "__main__":
    sys.exit(main())
