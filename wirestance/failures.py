"""What a run records when a URL, page or row could not be used: one type for every stage."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Failure:
    """One row of the lake's failures table (less the run id, which the lake adds when it stores it)."""

    url: str
    source: str
    stage: str  # discover | fetch | parse | classify | store | archive
    reason: str
    failed_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def as_row(self) -> dict[str, Any]:
        return asdict(self)
