"""Relabel stored paragraphs with a (new) model, partition by partition; rows already labelled by it stay."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from wirestance.lake import Lake
from wirestance.lake.schema import PARAGRAPHS, PROBABILITY_COLUMNS
from wirestance.pipeline import StanceLabeller
from wirestance.resources import Resources


@dataclass
class RelabelCounts:
    partitions_rewritten: int = 0
    paragraphs_relabelled: int = 0


def relabel_paragraphs(lake: Lake, model: StanceLabeller) -> RelabelCounts:
    """Give every paragraph not yet labelled by `model` its label; running it twice changes nothing."""
    counts = RelabelCounts()

    def relabel(table: pa.Table) -> pa.Table | None:
        stale = pc.fill_null(pc.not_equal(table["model_version"], model.version), True)
        positions = np.flatnonzero(stale.to_numpy(zero_copy_only=False))
        if positions.size == 0:
            return None
        texts = table["text"].take(positions).to_pylist()
        predictions = model.predict(texts)
        columns = {name: table[name].to_numpy(zero_copy_only=False).copy() for name in _LABEL_COLUMNS}
        columns["label"][positions] = predictions.labels
        columns["confidence"][positions] = predictions.confidence
        for index, name in enumerate(PROBABILITY_COLUMNS):
            columns[name][positions] = predictions.probabilities[:, index]
        columns["model_version"][positions] = model.version
        for name, values in columns.items():
            table = table.set_column(
                table.schema.get_field_index(name), name, pa.array(values, PARAGRAPHS.field(name).type)
            )
        counts.paragraphs_relabelled += int(positions.size)
        return table

    counts.partitions_rewritten = lake.rewrite_paragraphs(relabel)
    return counts


def reclassify(resources: Resources) -> dict[str, int | str]:
    """Relabel the lake's stale paragraphs with the run's model; a one-row summary (the model's version and
    the counts)."""
    model = resources.model
    counts = relabel_paragraphs(resources.lake, model)
    return {"model_version": model.version, **asdict(counts)}


_LABEL_COLUMNS = ("label", "confidence", *PROBABILITY_COLUMNS, "model_version")
