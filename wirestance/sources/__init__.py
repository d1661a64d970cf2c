"""The registry of agency sources: one entry per module implementing `Source`."""

from __future__ import annotations

from wirestance.sources.anadolu import SOURCE as ANADOLU
from wirestance.sources.base import Source

SOURCES: dict[str, Source] = {source.name: source for source in (ANADOLU,)}


def get_source(name: str) -> Source:
    """The source registered as `name`; a ValueError that lists the known names otherwise."""
    try:
        return SOURCES[name.strip().lower()]
    except KeyError:
        known = ", ".join(sorted(SOURCES))
        raise ValueError(f"unknown source {name!r}; known sources: {known}") from None


__all__ = ["SOURCES", "Source", "get_source"]
