"""The report's HTML: every text from the warehouse escaped, the chart data as JSON that cannot close its
script element, and a Content-Security-Policy that lets the page run only its own inline code."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape
from importlib import resources
from typing import Any

from pipelines.report_html.figures import FIGURES, SECTIONS, Figure, Row, chart_data, shown
from pipelines.report_html.library import NAME, VERSION

POLICY = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"


def _asset(name: str) -> str:
    return resources.files("pipelines.report_html").joinpath(name).read_text(encoding="utf-8")


def script_text(code: str) -> str:
    """`code` safe inside a script element: it must not close it."""
    if "</script" in code.lower() or "<!--" in code:
        raise ValueError("a script to embed holds '</script' or '<!--'")
    return code


def json_text(value: Any) -> str:
    """`value` as JSON that is safe inside a script element (no `<`, `>` or `&` as such)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def page(rows: dict[str, list[Row]], library: str, where: str, now: datetime) -> str:
    """The whole file."""
    as_of = next((r["as_of"] for r in rows.get("tiers", []) if r.get("as_of") is not None), None)
    if isinstance(as_of, datetime) and as_of.utcoffset() is not None:
        as_of = as_of.astimezone(UTC)
    charts = [chart_data(f, rows[f.name]) for f in FIGURES if rows[f.name]]
    body = [
        "<header>",
        "<h1>Mailjet: campaigns, lists, deliverability, engagement, sync</h1>",
        f'<p class="meta">From {escape(where)}. Written {escape(now.strftime("%Y-%m-%d %H:%M UTC"))}'
        + (f"; engagement counted back from {escape(_utc_text(as_of))}" if as_of else "")
        + ". Every chart's figures are in the table beside it; the models are documented in "
        "docs/models.md.</p>",
        "<nav>"
        + " ".join(f'<a href="#{key}">{escape(title)}</a>' for key, title in SECTIONS.items())
        + "</nav>",
        "</header>",
        "<main>",
    ]
    for key, title in SECTIONS.items():
        body.append(f'<section id="{key}"><h2>{escape(title)}</h2>')
        body += [_figure(f, rows[f.name]) for f in FIGURES if f.section == key]
        body.append("</section>")
    body.append("</main>")
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            "<title>Mailjet report</title>",
            f"<style>{_asset('report.css')}</style>",
            "</head><body>",
            *body,
            f'<script type="application/json" id="report-data">{json_text(charts)}</script>',
            f"<script>/* {NAME} {VERSION}, MIT License, https://www.chartjs.org */",
            f"{script_text(embedded(library))}</script>",
            f"<script>{script_text(_asset('report.js'))}</script>",
            "</body></html>",
            "",
        ]
    )


def _utc_text(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if isinstance(value, datetime) else str(value)


def embedded(library: str) -> str:
    """The library as the page holds it: without its source-map comment (no map is beside the page)."""
    return "\n".join(line for line in library.splitlines() if not line.startswith("//# sourceMappingURL="))


def _figure(figure: Figure, rows: list[Row]) -> str:
    title = escape(figure.title)
    if rows:
        chart = (
            f'<div class="chart chart-{figure.chart}"><canvas id="chart-{figure.name}" role="img" '
            f'aria-label="{title}"></canvas></div>'
        )
    else:
        chart = f'<p class="empty">{escape(figure.empty)}</p>'
    head = "".join(
        f'<th data-column="{column}" class="{kind}">{escape(heading)}</th>'
        for column, heading, kind in figure.columns
    )
    cells = "\n".join(
        "<tr>"
        + "".join(
            f'<td data-column="{column}" class="{kind}">{escape(shown(row.get(column), kind))}</td>'
            for column, _, kind in figure.columns
        )
        + "</tr>"
        for row in rows
    )
    return (
        f'<figure id="figure-{figure.name}" data-figure="{figure.name}"><figcaption>{title}</figcaption>'
        f'<div class="pair">{chart}<div class="figures"><table data-figure="{figure.name}">'
        f"<thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table></div></div></figure>"
    )
