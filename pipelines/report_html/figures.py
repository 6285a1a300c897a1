"""What the HTML report shows: one figure per statement of `pipelines/models/report/`, each a chart and,
beside it, a table of the same figures. A figure says which columns its table prints and how, which
column labels the chart's bars or points, and which columns it plots."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["int", "rate", "text", "date", "id"]
Row = dict[str, Any]


@dataclass(frozen=True)
class Series:
    column: str
    label: str
    sign: int = 1  # -1 plots the figure below the axis (unsubscribes against subscribes)


@dataclass(frozen=True)
class Figure:
    """One chart and its table, from the statement `name`."""

    name: str
    section: str
    title: str
    chart: Literal["bar", "line", "doughnut"]
    label: Callable[[Row], str]  # a row's label on the chart; rows with the same label are summed
    series: tuple[Series, ...]
    columns: tuple[tuple[str, str, Kind], ...]  # the table: column, heading, kind
    empty: str  # what the figure says when it has no rows
    key: Callable[[Row], Any] | None = None  # the rows one chart point sums (default: one per row)
    stacked: bool = False
    horizontal: bool = False
    percent: bool = False  # the series are rates: plotted as percentages
    options: dict[str, Any] = field(default_factory=dict)


def _campaign(row: Row) -> str:
    subject = row.get("subject") or ""
    name = f"{row['campaign_id']}" if row.get("campaign_id") is not None else "(no campaign)"
    return f"{name} {subject}"[:48].strip()


EXTRACT = "Nothing to show yet: run `mailjet-elt extract` (campaigns and their messages come with it)."
SYNC = "Nothing to show yet: run `mailjet-elt plan` and `mailjet-elt apply` (or `mailjet-elt run`)."

SECTIONS = {
    "campaigns": "Campaign performance",
    "lists": "List growth",
    "deliverability": "Deliverability",
    "engagement": "Engagement",
    "sync": "Sync history",
}

FIGURES = (
    Figure(
        "campaigns",
        "campaigns",
        "Open and click rates of the 12 latest campaigns",
        "bar",
        _campaign,
        (Series("open_rate", "open rate"), Series("click_rate", "click rate")),
        (
            ("campaign_id", "campaign", "id"),
            ("subject", "subject", "text"),
            ("first_sent_on", "first sent", "date"),
            ("sent", "sent", "int"),
            ("delivered", "delivered", "int"),
            ("unique_opens", "opened", "int"),
            ("unique_clicks", "clicked", "int"),
            ("bounces", "bounced", "int"),
            ("unsubscribes", "unsubscribed", "int"),
            ("open_rate", "open rate", "rate"),
            ("click_rate", "click rate", "rate"),
            ("bounce_rate", "bounce rate", "rate"),
        ),
        EXTRACT,
        percent=True,
    ),
    Figure(
        "list_growth",
        "lists",
        "Subscribes and unsubscribes per week, every list (the 26 latest weeks with any)",
        "bar",
        lambda row: row["week"].isoformat(),
        (Series("subscribes", "subscribes"), Series("unsubscribes", "unsubscribes", -1)),
        (
            ("week", "week of", "date"),
            ("subscribes", "subscribes", "int"),
            ("unsubscribes", "unsubscribes", "int"),
            ("net", "net", "int"),
        ),
        EXTRACT,
        stacked=True,
    ),
    Figure(
        "lists",
        "lists",
        "Subscribes and unsubscribes per list, all time (the 20 lists with most subscribes)",
        "bar",
        lambda row: str(row.get("list_name") or row["list_id"])[:40],
        (Series("subscribes", "subscribes"), Series("unsubscribes", "unsubscribes")),
        (
            ("list_id", "list", "id"),
            ("list_name", "name", "text"),
            ("subscribes", "subscribes", "int"),
            ("unsubscribes", "unsubscribes", "int"),
            ("net", "net", "int"),
        ),
        EXTRACT,
        horizontal=True,
    ),
    Figure(
        "bounce_domains",
        "deliverability",
        "Bounces by recipient domain (the 10 with most)",
        "bar",
        lambda row: str(row["domain"]),
        (Series("hard", "hard"), Series("soft", "soft"), Series("blocked", "blocked")),
        (
            ("domain", "domain", "text"),
            ("hard", "hard", "int"),
            ("soft", "soft", "int"),
            ("blocked", "blocked", "int"),
            ("bounces", "bounces", "int"),
        ),
        EXTRACT,
        stacked=True,
        horizontal=True,
    ),
    Figure(
        "bounce_reasons",
        "deliverability",
        "Bounces by reason (the 10 commonest)",
        "bar",
        lambda row: f"{row['bounce_type']}: {row['reason']}"[:48],
        (Series("bounces", "bounces"),),
        (
            ("bounce_type", "kind", "text"),
            ("related_to", "related to", "text"),
            ("reason", "reason", "text"),
            ("bounces", "bounces", "int"),
            ("contacts", "contacts", "int"),
        ),
        EXTRACT,
        horizontal=True,
    ),
    Figure(
        "spam",
        "deliverability",
        "Spam rate by campaign (the 12 highest, among campaigns with a spam report)",
        "bar",
        _campaign,
        (Series("spam_rate", "spam rate"),),
        (
            ("campaign_id", "campaign", "id"),
            ("subject", "subject", "text"),
            ("delivered", "delivered", "int"),
            ("spam_reports", "spam reports", "int"),
            ("spam_rate", "spam rate", "rate"),
        ),
        "No campaign has a spam report.",
        percent=True,
    ),
    Figure(
        "tiers",
        "engagement",
        "Contacts per engagement tier",
        "doughnut",
        lambda row: str(row["engagement_tier"]),
        (Series("contacts", "contacts"),),
        (("engagement_tier", "tier", "text"), ("contacts", "contacts", "int")),
        EXTRACT,
    ),
    Figure(
        "sync",
        "sync",
        "Changes the sync made per day (the 30 latest days with a plan)",
        "bar",
        lambda row: row["planned_on"].isoformat(),
        (
            Series("subscribed", "subscribed"),
            Series("unsubscribed", "unsubscribed"),
            Series("removed", "removed"),
            Series("updated", "updated"),
            Series("refused_or_failed", "refused or failed"),
        ),
        (
            ("planned_on", "day", "date"),
            ("audience", "audience", "text"),
            ("runs", "runs", "int"),
            ("planned", "planned", "int"),
            ("subscribed", "subscribed", "int"),
            ("unsubscribed", "unsubscribed", "int"),
            ("removed", "removed", "int"),
            ("updated", "updated", "int"),
            ("refused_or_failed", "refused or failed", "int"),
            ("left_out", "left out", "int"),
            ("mismatches", "mismatches", "int"),
        ),
        SYNC,
        key=lambda row: row["planned_on"],
        stacked=True,
    ),
)


def shown(value: Any, kind: Kind) -> str:
    """A figure as the table prints it."""
    if value is None:
        return "\u2013" if kind in ("rate", "int") else ("(none)" if kind == "id" else "")
    if kind == "int":
        return f"{int(value):,}"
    if kind == "rate":
        return f"{float(value) * 100:.1f} %"
    if kind == "date":
        return value.isoformat()[:10] if hasattr(value, "isoformat") else str(value)
    if kind == "id":
        return str(int(value))
    return str(value)


def chart_data(figure: Figure, rows: list[Row]) -> dict[str, Any]:
    """The chart's labels and series in the rows' order: one point per row, or per `figure.key` with its
    rows summed. A rate with nothing to divide (null) stays null: the chart leaves a gap, never a 0."""
    keys: list[Any] = []
    labels: dict[Any, str] = {}
    sums: dict[Any, list[float | None]] = {}
    for index, row in enumerate(rows):
        key = index if figure.key is None else figure.key(row)
        if key not in sums:
            keys.append(key)
            labels[key] = figure.label(row)
            sums[key] = [None] * len(figure.series)
        for i, series in enumerate(figure.series):
            value = row.get(series.column)
            if value is None:
                continue
            scaled = float(value) * (100.0 if figure.percent else 1.0) * series.sign
            sums[key][i] = (sums[key][i] or 0.0) + scaled
    return {
        "id": figure.name,
        "type": figure.chart,
        "labels": [labels[key] for key in keys],
        "series": [
            {"label": s.label, "data": [_point(sums[key][i], figure.percent) for key in keys]}
            for i, s in enumerate(figure.series)
        ],
        "stacked": figure.stacked,
        "horizontal": figure.horizontal,
        "percent": figure.percent,
    }


def _point(value: float | None, rate: bool) -> float | None:
    if value is None:
        return None if rate else 0.0
    return round(value, 4)
