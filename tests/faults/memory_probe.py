"""Run one batch of pages in a fresh process and print its peak memory (MB): the hostile-page memory test
runs this so the figure is this batch's alone, not the test session's."""

from __future__ import annotations

import json
import re
import sys
import time

from wirestance.classifiers.registry import load_champion
from wirestance.pipeline import process_batch
from wirestance.resources import Resources
from wirestance.settings import Settings


def peak_mb() -> float:
    """This process's own peak resident memory (VmHWM): ru_maxrss would carry over the forking parent's."""
    with open("/proc/self/status") as status:
        found = re.search(r"VmHWM:\s+(\d+) kB", status.read())
    assert found is not None
    return int(found.group(1)) / 1024


def main() -> None:
    lake_url, raw_url, models_dir, base_url, *urls = sys.argv[1:]
    settings = Settings(lake_url=lake_url, raw_url=raw_url, models_dir=models_dir, per_host_delay=0.0)
    model = load_champion(settings)
    baseline = peak_mb()
    resources = Resources(settings, model=model)
    started = time.monotonic()
    outcome = process_batch(resources, "anadolu", urls, model, base_url)
    resources.close()
    print(
        json.dumps(
            {
                "seconds": time.monotonic() - started,
                "baseline_mb": baseline,
                "peak_mb": peak_mb(),
                "new": outcome.counts.new,
                "failures": [[f.url, f.stage, f.reason] for f in outcome.failures],
            }
        )
    )


if __name__ == "__main__":
    main()
