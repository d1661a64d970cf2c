"""One typed settings object; every value can be set by an environment variable `WIRESTANCE_<NAME>`."""

from __future__ import annotations

import os
from dataclasses import MISSING, dataclass, field, fields, replace
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

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        return replace(cls(**values_from_env(cls, "WIRESTANCE_")), **overrides)

    @property
    def user_agent(self) -> str:
        from wirestance import __version__

        return f"wirestance/{__version__} (+news stance research; contact: {self.contact})"


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
            try:
                values[f.name] = type(default)(raw)
            except ValueError as exc:
                raise ValueError(f"{name}={raw!r}: {exc}") from exc
    return values
