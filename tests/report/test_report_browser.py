"""The report page opened in a real Chromium with every network request refused: the charts still render."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from wirestance.report import load_paragraphs, summarize, write_report

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]
OUTPUT = Path(__file__).resolve().parents[1] / "output"


def test_report_renders_its_charts_in_chromium_without_network(synthetic_lake, tmp_path: Path):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (scripts/install-test-services.sh installs it)")
    root, written = synthetic_lake
    summary = summarize(load_paragraphs(str(root)), "week")
    files = write_report(summary, tmp_path, png=False)
    refused: list[str] = []
    errors: list[str] = []

    def refuse(route: Any) -> None:
        refused.append(route.request.url)
        with contextlib.suppress(Exception):
            route.abort()

    OUTPUT.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.route("http*://**", refuse)  # the page must need nothing from any host
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.goto(files.html.as_uri())
            page.wait_for_selector("body[data-charts]", state="attached", timeout=30_000)
            state = page.evaluate("document.body.dataset.charts")
            charts = page.locator("div.chart")
            marks = [charts.nth(i).locator("svg g.mark-rect path").count() for i in range(charts.count())]
            legend = page.locator("#chart-all-agencies svg").text_content() or ""
            page.screenshot(path=str(OUTPUT / "report.png"), full_page=True)
            quotes = page.locator("ol.quotes li").count()
            low = page.locator("#low-confidence").inner_text()
        finally:
            browser.close()
    assert state == "rendered", errors
    assert errors == [] and refused == []
    # One chart per agency plus all together; each has a stacked bar per side and period and the count bars.
    assert len(marks) == 3
    weeks = 6
    assert all(count >= weeks * 4 + weeks * 2 for count in marks), marks
    assert "Turkish government" in legend and "2019-W45" in legend
    assert quotes == 15
    assert f"{summary.low_confidence_share:.0%}" in low
    assert written["articles"] == summary.n_articles
