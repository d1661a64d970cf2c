"""Agency sources: their declarations (sources.toml, read by `registry`) and their parsers (one module each).

Flows, the CLI and deployments ask here for "every enabled source" or one by name; nothing else names one.
"""

from __future__ import annotations

from typing import Any

from wirestance.sources.base import Source
from wirestance.sources.registry import Registry, SourcesFileError, registry


def get_source(name: str) -> Source:
    """The source declared as `name`; a ValueError that lists the known names otherwise."""
    return registry().get(name)


def enabled_source_names() -> list[str]:
    """Every enabled source, in the order the sources files declare them: the default of every run."""
    return registry().enabled_names()


def zones_of(names: list[str], override: str | None = None) -> dict[str, list[str]]:
    """Source names grouped by the time zone their days are counted in: `override` for all, else each
    source's own (so a backfilled day is the agency's printed date, its `published_date` partition)."""
    groups: dict[str, list[str]] = {}
    for name in names:
        zone = override or get_source(name).timezone
        groups.setdefault(zone, []).append(name)
    return groups


def source_for_url(url: str) -> Source | None:
    """The source a URL's domain belongs to (enabled and dedicated first), or None."""
    return registry().for_url(url)


def __getattr__(name: str) -> Any:
    # SOURCES stays readable as before: every declared source by name, from the current registry.
    if name == "SOURCES":
        return dict(registry().sources)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "SOURCES",
    "Registry",
    "Source",
    "SourcesFileError",
    "enabled_source_names",
    "get_source",
    "registry",
    "source_for_url",
    "zones_of",
]
