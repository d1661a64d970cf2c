"""The report as one self-contained HTML page (vega, vega-lite and vega-embed inlined: opening it needs no
network) and the same charts as PNG files."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import altair as alt

from wirestance.lake.schema import STANCE_LABELS
from wirestance.report.charts import SIDE_COLOURS, report_charts
from wirestance.report.shares import LABEL_NAMES, LOW_CONFIDENCE, StanceSummary


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    pngs: list[Path] = field(default_factory=list)


def report_name(summary: StanceSummary, lake_version: int | None = None) -> str:
    """File stem of a report: its window and period, so reports of other windows sit beside it; a report of
    the lake as it was (`lake_version`, of the articles table) names the version, beside the current one."""
    since = summary.since.isoformat() if summary.since else "start"
    until = summary.until.isoformat() if summary.until else "end"
    past = f"_v{lake_version}" if lake_version is not None else ""
    return f"stance-report_{since}_{until}_{summary.by}{past}"


def write_report(
    summary: StanceSummary,
    out_dir: str | Path,
    *,
    png: bool = True,
    lake_version: int | None = None,
    as_of: str | None = None,
) -> ReportFiles:
    """Write `<name>.html` and, with `png`, `<name>_<chart>.png` per chart into `out_dir`.

    For a report of the lake as it was: `lake_version` (of the articles table) goes into the file names,
    `as_of` (how the user named that moment) onto the page.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    name = report_name(summary, lake_version)
    charts = {} if summary.empty else report_charts(summary)
    page = out / f"{name}.html"
    tmp = page.with_suffix(".html.tmp")
    tmp.write_text(render_html(summary, charts, as_of=as_of), encoding="utf-8")
    tmp.replace(page)  # a reader never sees half a page
    pngs = []
    if png:
        for chart_name, chart in charts.items():
            path = out / f"{name}_{chart_name}.png"
            chart.save(str(path), format="png", scale_factor=2)
            pngs.append(path)
    return ReportFiles(page, pngs)


def _javascript_bundle() -> str:
    """vega, vega-lite and vega-embed in one script, the versions altair's specifications are written for."""
    import vl_convert

    major_minor = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    return str(vl_convert.javascript_bundle(vl_version=major_minor))


def _script_json(value: object) -> str:
    # "</script>" inside a paragraph's text must not end the script element.
    return json.dumps(value).replace("</", "<\\/")


def _window_text(summary: StanceSummary) -> str:
    since = summary.since.isoformat() if summary.since else "the first stored day"
    until = summary.until.isoformat() if summary.until else "the last stored day"
    return f"{since} to {until} (both days included, each agency's own day), per {summary.by}"


def render_html(summary: StanceSummary, charts: dict[str, alt.TopLevelMixin], *, as_of: str | None = None) -> str:
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>Stance report " + e(_window_text(summary)) + "</title>",
        f"<style>{_CSS}</style>",
        f"<script>{_javascript_bundle()}</script>" if charts else "",
        "</head><body>",
        "<h1>Stance of the coverage</h1>",
        f'<p class="window">{e(_window_text(summary))}. Articles on the dispute\'s topic only. '
        f"Made {datetime.now(UTC).strftime('%Y-%m-%d %H:%M')} UTC.</p>",
    ]
    if as_of is not None:
        parts.append(f'<p id="as-of">The lake as it was: {e(as_of)}. Later changes are not shown.</p>')
    if summary.empty:
        parts.append('<p id="empty">No labelled paragraphs in this window.</p></body></html>')
        return "\n".join(parts)
    low = summary.low_confidence_share
    parts += [
        '<ul class="facts">',
        f"<li><b>{summary.n_articles}</b> articles, <b>{summary.n_paragraphs}</b> paragraphs, "
        f"agencies: {e(', '.join(summary.sources))}</li>",
        f'<li id="low-confidence"><b>{low:.0%}</b> of the paragraphs ({summary.low_confidence_paragraphs}) are '
        f"low-confidence (the model gives its label less than {LOW_CONFIDENCE:.0%})</li>",
        "<li>Model versions: "
        + ", ".join(f"<code>{e(v)}</code> ({n} paragraphs)" for v, n in summary.model_versions.items())
        + "</li>",
        "</ul>",
        "<h2>Share of paragraphs per side over the whole window</h2>",
        _overall_table(summary),
        "<h2>Per period</h2>",
        "<p>Bars are stacked to 100%; the chart under each one shows how many articles and paragraphs are "
        "behind each period, so a thin period is easy to spot. Hover a bar for its figures.</p>",
    ]
    for chart_name in charts:
        parts.append(f'<div class="chart" id="chart-{e(chart_name)}"></div>')
    parts += ["<h2>Most confident paragraphs of each side</h2>", _top_tables(summary)]
    specs = {f"#chart-{chart_name}": chart.to_dict() for chart_name, chart in charts.items()}
    parts.append(
        "<script>\n"
        f"const specs = {_script_json(specs)};\n"
        "window.chartsRendered = Promise.all(Object.entries(specs).map(([target, spec]) =>\n"
        "  vegaEmbed(target, spec, {renderer: 'svg', actions: false})));\n"
        "window.chartsRendered.then(() => document.body.dataset.charts = 'rendered',\n"
        "  (error) => { document.body.dataset.charts = 'failed'; console.error(error); });\n"
        "</script>"
    )
    parts.append("</body></html>")
    return "\n".join(parts)


def _overall_table(summary: StanceSummary) -> str:
    e = html.escape
    head = "".join(f'<th style="color:{SIDE_COLOURS[label]}">{e(LABEL_NAMES[label])}</th>' for label in STANCE_LABELS)
    rows = []
    for row in summary.overall_shares().to_dict("records"):
        cells = "".join(f"<td>{row[label]:.0%}</td>" for label in STANCE_LABELS)
        rows.append(
            f"<tr><td>{e(str(row['source']))}</td><td>{row['articles']}</td><td>{row['paragraphs']}</td>{cells}</tr>"
        )
    return (
        '<table class="overall"><tr><th>agency</th><th>articles</th><th>paragraphs</th>'
        + head
        + "</tr>"
        + "".join(rows)
        + "</table>"
    )


def _top_tables(summary: StanceSummary) -> str:
    e = html.escape
    out = []
    for label, part in summary.top.groupby("label", sort=False):
        out.append(f'<h3 style="color:{SIDE_COLOURS[str(label)]}">{e(LABEL_NAMES[str(label)])}</h3><ol class="quotes">')
        for row in part.itertuples():
            out.append(
                f"<li><blockquote>{e(str(row.text))}</blockquote>"
                f'<span class="cite"><a href="{e(str(row.url))}">{e(str(row.title))}</a>, {e(str(row.source))}, '
                f"{row.published_date.isoformat()}; confidence {row.confidence:.2f}</span></li>"
            )
        out.append("</ol>")
    return "\n".join(out) or "<p>No paragraph was labelled with a side.</p>"


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 980px; color: #222; padding: 0 1em; }
h1 { margin-bottom: 0.2em; } .window { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.8em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.chart { margin: 1em 0 2em; }
blockquote { margin: 0.2em 0; } .cite { color: #555; font-size: 0.9em; }
ol.quotes li { margin-bottom: 0.8em; }
"""
