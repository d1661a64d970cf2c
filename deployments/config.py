"""Settings of the deployments: their schedules, from the one Settings object (read when they are built)."""

from __future__ import annotations

from dataclasses import dataclass

from wirestance.settings import Settings

#: Every 30 minutes: `ingest-latest` reaches back one interval plus an overlap, so nothing falls between runs.
DEFAULT_INGEST_CRON = Settings.ingest_cron
#: What WIRESTANCE_RETRAIN_CRON=weekly means: Mondays at 04:00.
WEEKLY_RETRAIN_CRON = "0 4 * * 1"
_OFF = ("", "off", "none", "no")


@dataclass(frozen=True)
class DeploymentConfig:
    #: Cron of `ingest-latest` (WIRESTANCE_INGEST_CRON); None: no schedule (runs only when triggered).
    ingest_cron: str | None = DEFAULT_INGEST_CRON
    #: Cron of `retrain` (WIRESTANCE_RETRAIN_CRON, `weekly` for Mondays 04:00); None by default.
    retrain_cron: str | None = None
    #: Time zone the crons are read in (WIRESTANCE_SCHEDULE_TIMEZONE).
    timezone: str = "UTC"

    @classmethod
    def from_settings(cls, settings: Settings) -> DeploymentConfig:
        retrain = settings.retrain_cron
        if retrain.strip().lower() == "weekly":
            retrain = WEEKLY_RETRAIN_CRON
        return cls(
            ingest_cron=_cron(settings.ingest_cron),
            retrain_cron=_cron(retrain),
            timezone=settings.schedule_timezone.strip() or "UTC",
        )

    @classmethod
    def from_env(cls) -> DeploymentConfig:
        return cls.from_settings(Settings.from_env())


def _cron(text: str) -> str | None:
    text = " ".join(text.split())
    if text.lower() in _OFF:
        return None
    if len(text.split()) != 5:
        raise ValueError(f"{text!r} is not a five-field cron expression (minute hour day month weekday)")
    return text
