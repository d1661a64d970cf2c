"""How a flow opens its run's resources: the core's `Resources`, with the champion model as its model."""

from __future__ import annotations

from wirestance.resources import Resources, StanceLabeller
from wirestance.settings import Settings


def champion_model(settings: Settings) -> StanceLabeller:
    """The registry's champion (trained from the labelled data first if there is none yet)."""
    from wirestance.classifiers.registry import load_champion

    return load_champion(settings)


def open_resources(settings: Settings | None = None) -> Resources:
    """A run's resources (use as a context manager); the champion is loaded once, when a task first needs it.

    `settings` default to the environment (WIRESTANCE_*)."""
    return Resources(settings or Settings.from_env(), load_model=lambda chosen: champion_model(chosen))
