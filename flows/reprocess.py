"""The `reprocess` flow: parse and label again what the raw archive holds, with today's parsers and champion.

The work is in wirestance.reprocess (worker processes parse and label; this process writes the lake); the
flow adds one Prefect task per stored batch of whole days, and a summary artifact.

The flow is `async def` although its body blocks: Prefect 3.9's sync engine joins the flow-run heartbeat
thread when the run ends, and that thread sleeps in one-second steps before it sees the stop, so every sync
run ends up to a second late (half a second on average: ~2 % of a 10,000-article reprocess); the async engine
does not wait for it. The heartbeat is an OS thread, so it still beats while the body blocks the event loop.
Callers outside an event loop run it with `asyncio.run(reprocess(...))`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import acreate_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from wirestance.classifiers.champion import RegisteredVersion, read_champion
from wirestance.pipeline import StanceLabeller, Window
from wirestance.reprocess import ReprocessBatch, StoreCounts, run_reprocess
from wirestance.settings import Settings
from wirestance.sources import enabled_source_names
from wirestance.workers import ModelRef

__all__ = ["PAGE_LISTENERS", "champion_ref", "reprocess", "run_reprocess"]

#: Called with the number of archived pages each parse job read, in the process that runs the flow:
#: `wirestance reprocess` moves its progress bar with it. Empty unless a caller adds one.
PAGE_LISTENERS: list[Callable[[int], None]] = []


def _pages_read(count: int) -> None:
    for listener in PAGE_LISTENERS:
        listener(count)


def champion_ref(settings: Settings) -> StanceLabeller | ModelRef:
    """The champion's version and how a worker loads it from the registry (trained and promoted first if
    there is none yet): this process does not load the model, nor import scikit-learn (~80 MB), unless it
    has to train the first champion; each worker reads the model when it first labels."""
    version = read_champion(settings.models_dir)
    if version is None:
        from wirestance.classifiers.registry import load_champion

        version = load_champion(settings).version  # trains the first champion under the registry lock
    return ModelRef(version, RegisteredVersion(settings.models_dir, version))


@task(name="reprocess-batch", cache_policy=NO_CACHE)
def store_batch_task(batch: ReprocessBatch) -> StoreCounts:
    """Store one batch of whole days (its articles are labelled by the workers meanwhile)."""
    return batch.store()


@flow(name="reprocess", log_prints=True)
async def reprocess(
    start: datetime,
    end: datetime,
    sources: list[str] | None = None,
    hosts: list[str] | None = None,
    fetched_since: datetime | None = None,
    fetched_until: datetime | None = None,
    settings: Settings | None = None,
    reparse: bool = False,
) -> list[dict[str, Any]]:
    """Parse and label again, from the raw archive, the articles published in [start, end). `settings`
    default to the environment (WIRESTANCE_*). `reparse`: parse also the responses whose stored article is
    current (same bytes, today's parser and model), e.g. after changing the screening limits."""
    settings = settings or Settings.from_env()
    window = Window(_aware(start), _aware(end))
    rows = run_reprocess(
        settings,
        window,
        sources or enabled_source_names(),
        champion_ref(settings),
        hosts=hosts or (),
        fetched_since=_aware(fetched_since) if fetched_since else None,
        fetched_until=_aware(fetched_until) if fetched_until else None,
        run_id=str(flow_run.id or uuid.uuid4()),
        run_batch=store_batch_task,
        on_pages=_pages_read,
        reparse=reparse,
    )
    await acreate_table_artifact(
        key="reprocess-summary",
        table=rows,
        description=f"Reprocess {window.start.isoformat()} -> {window.end.isoformat()} from the raw archive",
    )
    logger = get_run_logger()
    for row in rows:
        logger.info(_summary_sentence(row))
    return rows


def _summary_sentence(row: dict) -> str:
    """One source's reprocess counts as a sentence for the run's log (the artifact has the table)."""
    return (
        f"{row['source']}: {row['responses']:,} archived responses gave {row['articles']:,} articles "
        f"({row['not_reparsed']:,} responses not parsed again: their stored article is current); "
        f"{row['new']:,} new, {row['updated']:,} updated, {row['unchanged']:,} unchanged; "
        f"{row['labelled']:,} labelled, labels reused for {row['labels_reused']:,}; "
        f"{row['failed']:,} failed, {row['corrupt_records']:,} damaged records."
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
