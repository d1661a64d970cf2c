"""One typed settings object; every value can be set by an environment variable `WIRESTANCE_<NAME>`."""

from __future__ import annotations

import math
import os
from dataclasses import MISSING, dataclass, field, fields, replace
from datetime import date
from pathlib import Path
from typing import Any


def _under_data(name: str) -> Any:
    """A path default under `data/` of the working directory when the settings are made: never where the
    package happens to be installed (a wheel in site-packages has no data/)."""
    return field(default_factory=lambda: str(Path.cwd() / "data" / name))


def _existing(path: Path) -> str:
    return str(path) if path.is_file() else ""


@dataclass(frozen=True)
class Settings:
    #: Lake root (Delta tables): a local path or an s3://bucket/prefix URL.
    lake_url: str = _under_data("lake")
    #: Raw response archive (WARC files).
    raw_url: str = _under_data("raw")
    #: Model registry (every trained version and the `champion` pointer).
    models_dir: str = _under_data("models")
    #: Labelled training data (JSONL files).
    labeled_dir: str = _under_data("labeled")
    #: Labelled paragraphs of real agency articles, never trained on: every registered model is scored on them.
    eval_dir: str = _under_data("eval")
    #: Labelled real-copy development set (JSONL) every registered model is scored on, never trained on;
    #: "" when there is none. Default: ../shared/stance-dev/dev.jsonl beside the checkout, when it exists.
    dev_set: str = field(default_factory=lambda: _existing(Path.cwd().parent / "shared" / "stance-dev" / "dev.jsonl"))
    #: Stance reports (HTML and PNG) written by `wirestance report` and after each ingest and backfill; empty:
    #: a `reports` folder beside a local lake (data/reports for data/lake), data/reports for a remote one.
    reports_dir: str = ""
    #: Offline replay of agency sites served on loopback by `wirestance demo`.
    samples_dir: str = _under_data("samples")
    #: Who we are, sent in the User-Agent so site operators can reach us.
    contact: str = "wirestance-operators@example.org"
    #: Minimum seconds between two requests to the same host.
    per_host_delay: float = 1.0
    #: Requests in flight to the same host at once.
    per_host_concurrency: int = 2
    #: Seconds for connect and for each read.
    timeout: float = 20.0
    #: Attempts per request for connection errors, 429 and 5xx (first try included).
    max_attempts: int = 4
    #: Base of the exponential backoff, seconds.
    backoff_base: float = 0.5
    #: Longest Retry-After we are willing to wait, seconds.
    max_retry_after: float = 120.0
    #: Largest response body we accept, bytes.
    max_body_bytes: int = 10 * 1024 * 1024
    #: Articles per Prefect task (fetch + parse + label + store).
    batch_size: int = 50
    #: Whole-response deadline per request, seconds: a server trickling bytes cannot hold a worker longer.
    request_deadline: float = 60.0
    #: Deadline of one batch (fetch + parse), seconds: URLs not fetched by then are failures, the run goes on.
    batch_deadline: float = 900.0
    #: Deadline of one ingest run, seconds: batches not started by then become failures.
    run_deadline: float = 6 * 3600.0
    #: Most Retry-After seconds one host may impose on a run in total; past it its URLs are failures.
    retry_after_budget: float = 300.0
    #: Paragraphs one article may have: a page with more is refused (a hostile page, not a story).
    max_paragraphs: int = 2000
    #: Characters one paragraph may have: a longer one is cut there.
    max_paragraph_chars: int = 20_000
    #: Earliest plausible publication date (ISO date); an article dated before it is refused.
    earliest_published: str = "1990-01-01"
    #: How far past now a publication or update time may lie (time zones, clock skew), seconds.
    future_slack: float = 2 * 86400.0
    #: Hours a lake data file no longer referenced is kept by `maintain-lake` (time travel reaches that far back).
    lake_retention_hours: float = 168.0
    #: Worker processes that parse and label in a reprocess (0: none, all in the calling process).
    workers: int = field(default_factory=lambda: _usable_cores())
    #: Where a backfill's chunk tasks run: `thread` (in the flow-run process) or `dask` (prefect-dask).
    task_runner: str = "thread"
    #: With the Dask runner: the address of an existing Dask scheduler (tcp://host:8786); empty: a local cluster.
    dask_address: str = ""
    #: With the Dask runner and no address: worker processes of the local cluster.
    dask_workers: int = 1
    #: Cron of the `ingest-latest` deployment; `off` (or empty): no schedule, it runs only when triggered.
    ingest_cron: str = "*/30 * * * *"
    #: Cron of the `retrain` deployment (`weekly`: Mondays 04:00); empty (the default): no schedule.
    retrain_cron: str = ""
    #: Cron of the `maintain-lake` deployment (compaction, vacuum, checkpoints); `off`: no schedule.
    maintain_cron: str = "15 3 * * *"
    #: Time zone the deployments' crons are read in.
    schedule_timezone: str = "UTC"
    #: A sources file read after the shipped sources.toml (adds agencies, switches them on); empty: none.
    sources_file: str = ""

    def __post_init__(self) -> None:
        problems = [problem for problem in (_check(self, f.name) for f in fields(self)) if problem]
        if problems:
            raise SettingsError("; ".join(problems))

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        return replace(cls(**values_from_env(cls, "WIRESTANCE_")), **overrides)

    @property
    def user_agent(self) -> str:
        from wirestance import __version__

        return f"wirestance/{__version__} (+news stance research; contact: {self.contact})"


class SettingsError(ValueError):
    """A setting with a value wirestance cannot run with; the message names the variable and the reason."""


#: Settings that must be > 0, and those that may be 0 but not negative.
_POSITIVE = frozenset(
    {
        "per_host_concurrency",
        "timeout",
        "max_attempts",
        "max_body_bytes",
        "batch_size",
        "request_deadline",
        "batch_deadline",
        "run_deadline",
        "max_paragraphs",
        "max_paragraph_chars",
        "dask_workers",
    }
)
_NOT_NEGATIVE = frozenset(
    {
        "per_host_delay",
        "backoff_base",
        "max_retry_after",
        "retry_after_budget",
        "future_slack",
        "workers",
        "lake_retention_hours",
    }
)


def _check(settings: Settings, name: str) -> str | None:
    value = getattr(settings, name)
    where = f"WIRESTANCE_{name.upper()}={value!r}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{where}: must be a finite number"
    if name in _POSITIVE and value <= 0:
        return f"{where}: must be greater than 0"
    if name in _NOT_NEGATIVE and value < 0:
        return f"{where}: must not be negative"
    if name == "earliest_published":
        try:
            date.fromisoformat(value)
        except ValueError:
            return f"{where}: not an ISO date (YYYY-MM-DD)"
    if name in ("lake_url", "raw_url", "models_dir") and not str(value).strip():
        return f"{where}: must not be empty"
    return None


def _usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def values_from_env(config_class: type, prefix: str) -> dict[str, Any]:
    """Field values of a settings dataclass from `<prefix><FIELD>` variables, typed like the field defaults
    (tuples from comma-separated lists, booleans from 1/true/yes/on)."""
    values: dict[str, Any] = {}
    for f in fields(config_class):
        name = f"{prefix}{f.name.upper()}"
        raw = os.environ.get(name)
        if raw is None:
            continue
        default = f.default_factory() if f.default is MISSING and f.default_factory is not MISSING else f.default
        if isinstance(default, tuple):
            values[f.name] = tuple(part.strip() for part in raw.split(",") if part.strip())
        elif isinstance(default, bool):
            values[f.name] = raw.strip().lower() in ("1", "true", "yes", "on")
        else:
            kind = type(default)
            try:
                values[f.name] = kind(raw.strip()) if kind in (int, float) else kind(raw)
            except ValueError:
                expected = {int: "a whole number", float: "a number"}.get(kind, kind.__name__)
                raise SettingsError(f"{name}={raw!r}: not {expected}") from None
    return values
