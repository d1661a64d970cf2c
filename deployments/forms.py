"""What the Prefect UI's run forms show: a title and a description for every parameter of every deployment,
and the known sources as a choice. Applied to each deployment's parameter schema when it is built."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wirestance.report.data import WINDOW_RULE

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

#: Each deployment's parameters: name -> (title, description).
FORMS: dict[str, dict[str, tuple[str, str]]] = {
    "ingest-latest": {
        "settings": (
            "Settings",
            "Overrides of the WIRESTANCE_* settings of the process that runs the flow; empty: those.",
        ),
        "lookback_minutes": (
            "Look back (minutes)",
            "The window ends at the run's scheduled time and starts this many minutes (plus the overlap) before.",
        ),
        "overlap_minutes": (
            "Overlap (minutes)",
            "Extra minutes reached back, so a late or skipped run loses nothing; stored articles count as unchanged.",
        ),
        "sources": ("Sources", "The agencies to ingest; empty: anadolu."),
        "categories": ("Feed categories", "Feed categories of each source; empty: each source's default categories."),
        "feed_base_url": (
            "Site address to read instead",
            "Replace the sites' origin with this one: a mirror, or the offline sample that `wirestance sample "
            "serve` prints (http://127.0.0.1:8765). Empty: the agencies' own sites.",
        ),
    },
    "backfill": {
        "settings": (
            "Settings",
            "Overrides of the WIRESTANCE_* settings of the process that runs the flow; empty: those.",
        ),
        "dates": (
            "Days to ingest",
            f"The first day and how many days from it (at least 1, so a range never ends before it starts): "
            f"{WINDOW_RULE}.",
        ),
        "sources": ("Sources", "The agencies to backfill, chosen from the known sources."),
        "categories": ("Feed categories", "Feed categories of each source; empty: each source's default categories."),
        "reprocess": (
            "Replace stored articles",
            "Store articles again even when unchanged, e.g. after a parser or model change.",
        ),
        "chunk_days": (
            "Days per chunk",
            "Chunks run one after another, each stored before the next starts; a failed backfill run again "
            "resumes cheaply (stored articles count as unchanged).",
        ),
        "feed_base_url": (
            "Site address to read instead",
            "Replace the sites' origin with this one: a mirror, or the offline sample that `wirestance sample "
            "serve` prints (http://127.0.0.1:8765). Empty: the agencies' own sites.",
        ),
        "mode": (
            "Where articles come from",
            "auto (default): the feeds, unless the days end before the oldest article the feeds list today; "
            "then the raw archive when it holds those days' article pages, discovery otherwise. feeds: the "
            "sources' RSS feeds. discovery: sitemaps, the Wayback Machine and the Common Crawl index. archive: "
            "parse the raw WARC archive again with today's parsers and model, no network.",
        ),
    },
    "retrain": {
        "settings": (
            "Settings",
            "Overrides of the WIRESTANCE_* settings of the process that runs the flow; empty: those.",
        ),
        "data_path": (
            "Labelled data",
            "A .jsonl/.csv file, a folder of them, or a parquet path; empty: the labelled data of the checkout "
            "(WIRESTANCE_LABELED_DIR).",
        ),
        "min_macro_f1_gain": (
            "Least macro-F1 gain",
            "The challenger is promoted only if its macro-F1 beats the champion's by at least this much.",
        ),
        "max_label_f1_drop": (
            "Largest F1 drop on any label",
            "The challenger is refused if any label's F1 falls by more than this against the champion.",
        ),
        "eval_fraction": ("Share held out", "Share of the articles held out for evaluation (0 to 1)."),
        "seed": ("Seed", "Seed of the split, the folds and the classifier: the same seed gives the same model."),
    },
}


def apply_form(deployment: RunnerDeployment, name: str) -> RunnerDeployment:
    """Titles, descriptions and the source choice in the deployment's parameter schema (what the UI draws
    and what the server validates a run's parameters against)."""
    from wirestance.sources import SOURCES

    schema = deployment._parameter_openapi_schema
    texts = FORMS[name]
    missing = set(schema.properties) - set(texts)
    if missing:
        raise ValueError(f"deployment {name}: no title or description for parameters {sorted(missing)}")
    for parameter, (title, description) in texts.items():
        prop = schema.properties.get(parameter)
        if prop is None:
            continue  # a parameter this checkout's flow does not have
        prop["title"] = title
        prop["description"] = description
        if parameter == "sources":
            _choose_from(prop, sorted(SOURCES))
    return deployment


def _choose_from(prop: dict[str, Any], names: list[str]) -> None:
    """Make every array of strings in `prop` (itself, or a branch of its anyOf) an array of these names."""
    branches = prop.get("anyOf", [prop])
    for branch in branches:
        if branch.get("type") == "array":
            branch["items"] = {"type": "string", "enum": names}
            branch["uniqueItems"] = True
