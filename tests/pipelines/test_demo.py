"""`mailjet-elt demo`, run once for the module as a user runs it: the whole loop against its own sandbox,
what it prints and leaves in the database, `explain` on a person it made, and the HTML report it ends with,
opened in headless Chromium: every chart drawn, no console error, no request beyond the file itself, and
every figure printed equal to the models' own rows (computed here in Python, not by the report's SQL)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.browser import opened

BIN = Path(sys.executable).parent / "mailjet-elt"
Demo = tuple[Path, "subprocess.CompletedProcess[str]"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    where = tmp_path_factory.mktemp("demo")
    result = subprocess.run(
        [str(BIN), "demo", "--contacts", "300"],
        check=False,
        capture_output=True,
        text=True,
        timeout=240,
        cwd=where,
    )
    yield where, result


def test_demo_runs_the_whole_loop_and_mailjet_ends_as_planned(demo: Demo) -> None:
    tmp_path, result = demo
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Newsletter" in out and "Service messages" in out
    for step in range(1, 9):
        assert f"== {step}/8 " in out
    # The CSV export joins the API's rows; its bad rows are rejected, not lost.
    assert "contacts 2 · property values 6 · memberships of list Newsletter 2" in out
    assert "rejected 2: 1 invalid, 1 duplicate email (first row kept)" in out
    # The plan acts on the CRM's consent; the apply is verified; a second plan has nothing left.
    assert re.search(r"subscribe \(addnoforce\)\s+[\d,]+\s+joined the audience", out), out
    assert re.search(r"unsubscribe \(unsub\)\s+[\d,]+\s+consent withdrawn", out), out
    assert out.count("read again: every confirmed change is there") == 2, out
    assert "newsletter: 0 changes, service: 0 changes" in out
    assert "-- Campaign performance" in out and "-- Consent now" in out
    assert "leaked" not in result.stderr and "Traceback" not in result.stderr
    # It ends by writing the HTML report, and says where it is.
    report = tmp_path / "demo_report.html"
    assert f"Open it in a browser: {report.resolve().as_uri()}" in out and report.is_file()

    # What the report says holds in the database, and the re-extract shows it in Mailjet's own state.
    db = tmp_path / "demo_mailjet_elt.duckdb"
    with duckdb.connect(str(db), read_only=True) as con:
        statuses = con.sql(
            "select status, count(*) from mailjet_sync.sync_runs where applied_at is not null group by all"
        ).fetchall()
        assert statuses == [("applied", 2)]
        wrong = con.sql(
            "select ch.audience, ch.action, ch.email, r.is_unsubscribed from mailjet_sync.sync_changelog ch "
            "left join mailjet_api.contacts c on lower(c.email) = lower(ch.email) "
            "left join mailjet_api.list_recipients r on r.contact_id = c.id and r.list_id = ch.list_id "
            "where ch.outcome = 'done' and ch.action in ('addnoforce', 'unsub') and "
            "r.is_unsubscribed is distinct from (ch.action = 'unsub')"
        ).fetchall()
        assert wrong == []
        held = con.sql(
            "select count(*), count(*) filter (where r.is_unsubscribed) from mailjet_sync.sync_rejections j "
            "join mailjet_api.contacts c on lower(c.email) = j.email "
            "join mailjet_api.list_recipients r on r.contact_id = c.id and r.list_id = j.list_id "
            "where j.reason = 'unsubscribed_in_mailjet'"
        ).fetchall()[0]
        assert held[0] == held[1], "someone held back as unsubscribed was subscribed"
        done = con.sql("select count(*) from mailjet_sync.sync_changelog where outcome = 'done'").fetchall()
        assert done[0][0] > 0
        # Someone Mailjet had subscribed, whose CRM withdrawal came later: the plan unsubscribed them.
        [(withdrawn, job)] = con.sql(
            "select email, job_id from mailjet_sync.sync_changelog "
            "where action = 'unsub' and reason = 'consent_withdrawn' and outcome = 'done' "
            "order by email limit 1"
        ).fetchall()
    assert (tmp_path / "demo_crm" / "profiles.csv").is_file()

    # `explain` tells their story: the withdrawal after the subscription, the decision, its reason, its job.
    told = subprocess.run(
        [str(BIN), "--db", str(db), "explain", withdrawn.upper(), "--format", "json"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert told.returncode == 0, told.stderr
    story = json.loads(told.stdout)
    [decision] = [d for d in story["decisions"] if d["action"] == "unsub"]
    assert (decision["reason"], decision["job_id"], decision["outcome"]) == ("consent_withdrawn", job, "done")
    [membership] = [m for m in story["memberships"] if m["list_id"] == decision["list_id"]]
    crm = [e for e in story["consent"] if e["permission"] == "email_newsletter" and e["list_id"] is None]
    assert crm[-1]["granted"] is False and crm[-1]["at"] > membership["subscribed_at"]
    assert membership["is_unsubscribed"] is True  # as the extract after apply read it
    in_force = [e for e in story["consent"] if e["permission"] == "email_newsletter" and e["in_force"]]
    assert len(in_force) == 1 and in_force[0]["granted"] is False
    text = subprocess.run(
        [str(BIN), "--db", str(db), "explain", withdrawn],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (
        "unsubscribe (unsub), reason consent_withdrawn" in text.stdout and f"job {job}, done" in text.stdout
    )


# Every chart the demo's report draws: it has data for each.
FIGURES = ("campaigns", "list_growth", "lists", "bounce_domains", "bounce_reasons", "spam", "tiers", "sync")
TABLES_JS = """Array.from(document.querySelectorAll('table[data-figure]')).map(t => [t.dataset.figure,
  Array.from(t.tBodies[0].rows).map(r => Array.from(r.cells).map(c => c.textContent))])"""
CANVASES_JS = """Array.from(document.querySelectorAll('canvas')).map(cv => {
  const ink = () => {
    const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  };
  const chart = Chart.getChart(cv);
  const inked = ink();  // then the same chart with its data hidden: axes, grid and legend alone
  chart.data.datasets.forEach((s, i) => chart.setDatasetVisibility(i, false));
  chart.update('none');
  const bare = ink();
  chart.data.datasets.forEach((s, i) => chart.setDatasetVisibility(i, true));
  chart.update('none');
  const round = chart.config.type === 'doughnut';
  const flat = chart.options.indexAxis === 'y';
  return {id: cv.id.replace('chart-', ''), pixels: cv.width * cv.height, inked: inked, bare: bare,
    labels: chart.data.labels,
    series: chart.data.datasets.map((s, i) => ({label: s.label, data: s.data,
      sizes: chart.getDatasetMeta(i).data.map(e => round ? (e.endAngle - e.startAngle) * e.outerRadius
                                                       : Math.abs((flat ? e.x : e.y) - e.base))}))};
})"""
# What each chart plots, as columns of its table: (series, column, how); the sync's sums a day's audiences.
PLOTTED: dict[str, list[tuple[str, int, str]]] = {
    "campaigns": [("open rate", 9, "rate"), ("click rate", 10, "rate")],
    "list_growth": [("subscribes", 1, "int"), ("unsubscribes", 2, "below")],
    "lists": [("subscribes", 2, "int"), ("unsubscribes", 3, "int")],
    "bounce_domains": [("hard", 1, "int"), ("soft", 2, "int"), ("blocked", 3, "int")],
    "bounce_reasons": [("bounces", 3, "int")],
    "spam": [("spam rate", 4, "rate")],
    "tiers": [("contacts", 1, "int")],
    "sync": [
        ("subscribed", 4, "int"),
        ("unsubscribed", 5, "int"),
        ("removed", 6, "int"),
        ("updated", 7, "int"),
        ("refused or failed", 8, "int"),
    ],
}


def test_the_demos_report_renders_in_chromium_with_the_models_figures(demo: Demo) -> None:
    where, result = demo
    assert result.returncode == 0, result.stdout + result.stderr
    report = where / "demo_report.html"
    with opened(report.resolve().as_uri()) as page:
        drawn = page.evaluate("document.body.dataset.charts")
        errors = list(page.errors)  # the page's own: the pixel reading below draws a warning of its own
        charts = {c["id"]: c for c in page.evaluate(CANVASES_JS)}
        tables = dict(page.evaluate(TABLES_JS))
        shot = page.screenshot(Path(os.environ.get("MAILJET_ELT_SCREENSHOT") or where / "report.png"))
        requests = page.requests
    assert errors == [], errors
    assert requests == [report.resolve().as_uri()]  # nothing but the file itself: no network
    assert drawn == str(len(FIGURES)) and list(charts) == list(FIGURES)
    assert shot.stat().st_size > 50_000  # a page of charts, not a blank one

    expected = figures(where / "demo_mailjet_elt.duckdb")
    assert list(tables) == list(FIGURES)
    for name in FIGURES:
        assert tables[name] == expected[name], name
        chart = charts[name]
        # The data drew something of its own: hidden, the chart has far fewer inked pixels.
        assert chart["inked"] - chart["bare"] > 500, (name, chart["inked"], chart["bare"])
        assert [s["label"] for s in chart["series"]] == [label for label, _, _ in PLOTTED[name]], name
        plotted = _plotted(name, expected[name])
        assert chart["labels"] and len(chart["labels"]) == len(plotted), name
        for (label, column, how), series in zip(PLOTTED[name], chart["series"], strict=True):
            want = [point[column] for point in plotted]
            got = [_cell(v, how) for v in series["data"]]
            assert got == want, (name, label)
            # Every figure that is not 0 is drawn: a bar or an arc of some size, not a blank canvas.
            for value, size in zip(series["data"], series["sizes"], strict=True):
                assert not value or size > 0.5, (name, label, value, size)
        assert any(v for s in chart["series"] for v in s["data"]), f"{name}: nothing to draw"


def _plotted(name: str, rows: list[list[str]]) -> list[list[str]]:
    """A table's rows as its chart plots them: the sync's summed per day, the others one point each."""
    if name != "sync":
        return rows
    days: dict[str, list[int]] = {}
    for row in rows:
        summed = days.setdefault(row[0], [0] * len(row))
        for i in range(2, len(row)):
            summed[i] += int(row[i].replace(",", ""))
    return [[day, "", *(_int(v) for v in summed[2:])] for day, summed in days.items()]


def _cell(value: float | None, how: str) -> str:
    """A chart's point as the table prints it."""
    if how == "rate":
        return "\u2013" if value is None else f"{value:.1f} %"
    assert value is not None and value == int(value)
    return _int(-value if how == "below" else value)


def _int(value: Any) -> str:
    return f"{int(value):,}"


def _rate(part: Any, whole: Any) -> str:
    return "\u2013" if not whole else f"{float(part) / float(whole) * 100:.1f} %"


def _id(value: Any) -> str:
    return "(none)" if value is None else str(value)


def _models(con: duckdb.DuckDBPyConnection, name: str) -> list[dict[str, Any]]:
    cursor = con.execute(f"select * from mailjet_models.{name}")
    columns = [c[0] for c in cursor.description or []]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def figures(db: Path) -> dict[str, list[list[str]]]:
    """The report's tables as the models' own rows give them, summed and ranked here."""
    with duckdb.connect(str(db), read_only=True) as con:
        found = {
            name: _models(con, name)
            for name in ("campaign_performance", "list_growth", "deliverability", "deliverability_spam")
        }
        found["contact_engagement"] = _models(con, "contact_engagement")
        found["sync_history"] = _models(con, "sync_history")
        subjects = dict(con.execute("select id, subject from mailjet.campaigns").fetchall())
    return {
        "campaigns": _campaigns(found["campaign_performance"], subjects),
        **_growth(found["list_growth"]),
        **_bounces(found["deliverability"]),
        "spam": _spam(found["deliverability_spam"], subjects),
        "tiers": _tiers(found["contact_engagement"]),
        "sync": _sync(found["sync_history"]),
    }


def _campaigns(rows: list[dict[str, Any]], subjects: dict[int, str]) -> list[list[str]]:
    per: dict[Any, dict[str, Any]] = {}
    for r in rows:
        c = per.setdefault(r["campaign_id"], defaultdict(int, first=r["sent_on"]))
        c["first"] = min(c["first"], r["sent_on"])
        for column in ("sent", "delivered", "unique_opens", "unique_clicks", "unsubscribes"):
            c[column] += r[column]
        c["bounces"] += r["hard_bounces"] + r["soft_bounces"]

    def key(item: tuple[Any, dict[str, Any]]) -> tuple[Any, ...]:
        return (item[1]["first"], item[0] is not None, item[0] or 0)

    latest = sorted(sorted(per.items(), key=key, reverse=True)[:12], key=key)
    return [
        [
            _id(cid),
            subjects.get(cid) or "",
            c["first"].isoformat(),
            *(_int(c[k]) for k in ("sent", "delivered", "unique_opens", "unique_clicks", "bounces")),
            _int(c["unsubscribes"]),
            _rate(c["unique_opens"], c["delivered"]),
            _rate(c["unique_clicks"], c["delivered"]),
            _rate(c["bounces"], c["sent"]),
        ]
        for cid, c in latest
    ]


def _growth(rows: list[dict[str, Any]]) -> dict[str, list[list[str]]]:
    weeks: dict[Any, list[int]] = defaultdict(lambda: [0, 0, 0])
    lists: dict[int, dict[str, Any]] = {}
    for r in rows:
        if r["period"] == "week":
            for i, column in enumerate(("subscribes", "unsubscribes", "net")):
                weeks[r["period_start"]][i] += r[column]
        else:
            one = lists.setdefault(r["list_id"], {"name": None, "figures": [0, 0, 0]})
            if r["list_name"] is not None:
                one["name"] = max(one["name"] or "", r["list_name"])
            for i, column in enumerate(("subscribes", "unsubscribes", "net")):
                one["figures"][i] += r[column]
    latest = sorted(weeks)[-26:]
    ranked = sorted(lists.items(), key=lambda kv: (-kv[1]["figures"][0], kv[0]))
    return {
        "list_growth": [[week.isoformat(), *map(_int, weeks[week])] for week in latest],
        "lists": [[str(lid), one["name"] or "", *map(_int, one["figures"])] for lid, one in ranked],
    }


def _bounces(rows: list[dict[str, Any]]) -> dict[str, list[list[str]]]:
    domains: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    reasons: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        domain = domains[r["recipient_domain"] or "(contact deleted)"]
        domain[r["bounce_type"]] += r["bounces"]
        domain["all"] += r["bounces"]
        why = (r["bounce_type"], r["error_related_to"] or "", r["error"] or f"state {r['state_id']}")
        reasons[why][0] += r["bounces"]
        reasons[why][1] += r["contacts"]
    top = sorted(domains.items(), key=lambda kv: (-kv[1]["all"], kv[0]))[:10]
    common = sorted(reasons.items(), key=lambda kv: (-kv[1][0], *kv[0]))[:10]
    return {
        "bounce_domains": [
            [name, *(_int(d[k]) for k in ("hard", "soft", "blocked", "all"))] for name, d in top
        ],
        "bounce_reasons": [[*why, _int(n), _int(people)] for why, (n, people) in common],
    }


def _spam(rows: list[dict[str, Any]], subjects: dict[int, str]) -> list[list[str]]:
    delivered = [r for r in rows if r["delivered"] > 0 and r["spam_reports"] > 0]
    top = sorted(delivered, key=lambda r: (-r["spam_rate"], r["campaign_id"] is None, r["campaign_id"] or 0))
    return [
        [
            _id(r["campaign_id"]),
            subjects.get(r["campaign_id"]) or "",
            _int(r["delivered"]),
            _int(r["spam_reports"]),
            _rate(r["spam_reports"], r["delivered"]),
        ]
        for r in top[:12]
    ]


def _tiers(rows: list[dict[str, Any]]) -> list[list[str]]:
    counted: dict[str, int] = defaultdict(int)
    for r in rows:
        counted[r["engagement_tier"]] += 1
    return [[tier, _int(counted[tier])] for tier in ("active", "lapsing", "dormant", "never")]


def _sync(rows: list[dict[str, Any]]) -> list[list[str]]:
    days = sorted({r["planned_on"] for r in rows})[-30:]
    actions = ("adds", "unsubs", "removes", "updates")
    per: dict[tuple[Any, str], list[int]] = defaultdict(lambda: [0] * 9)
    for r in rows:
        if r["planned_on"] not in days:
            continue
        figures = [
            r["runs"],
            sum(r[f"{a}_planned"] for a in actions),
            *(r[f"{a}_done"] for a in actions),
            sum(r[f"{a}_refused"] + r[f"{a}_failed"] for a in actions),
            r["rejected"] + r["held_back"],
            r["mismatches"],
        ]
        per[(r["planned_on"], r["audience"])] = [
            a + b for a, b in zip(per[(r["planned_on"], r["audience"])], figures, strict=True)
        ]
    return [[day.isoformat(), audience, *map(_int, f)] for (day, audience), f in sorted(per.items())]
