"""Benchmark of `mailjet-elt plan` at scale: an audience of about as many people as its Mailjet list has
members, data tests included. Prints the plan's time, its peak memory, the time of its phases (the diff
itself, the data tests, building the audience), each statement and Python step in the order it ran (its
time and the peak RSS while it ran) and what it planned; asserts nothing. Goals (issue 27): 1M x 1M in
<= 10 s, peak RSS <= 600 MiB, on an idle 2-core machine.

The warehouse is written with SQL (`range`), as `extract` and `load` would leave it: `--members` Mailjet
contacts, each a member of the list `Newsletter` (5 % unsubscribed; 0.1 % excluded from campaigns,
0.1 % spam complainers, 0.3 % hard bounces), their firstname and country; `--people` CRM profiles
starting 5 % of the way into the members (so about 5 % of the members have no profile and as many
people are not members yet), 2 % with another country than Mailjet's, 0.02 % invalid emails and 0.02 %
duplicated rows, each with an `email_newsletter` grant (1 % without) and 0.5 % with a newer withdrawal;
half the members recorded in `sync_snapshot` as added by the audience. Each run plans the audience
`newsletter` in its own process (its peak RSS is the plan's own), on a fresh copy of the database.

    .venv/bin/python bench/plan.py
    .venv/bin/python bench/plan.py --people 20000 --members 20000 --repeat 1
    .venv/bin/python bench/plan.py --crm-audience   # members without a CRM profile leave the audience
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
from common import Figures, peak_rss_mib

from pipelines.sync.audiences import SHIPPED_AUDIENCES
from pipelines.sync.tables import SYNC_DATASET, TABLES
from pipelines.warehouse import open_pipeline
from pipelines.warehouse.datasets import API_DATASET, CRM_DATASET, RAW_TABLES
from pipelines.warehouse.publish import publish_views

AUDIENCE = "newsletter"
LIST_ID = 1001
COUNTRIES = "['FR', 'DE', 'IT', 'ES', 'NL', 'BE', 'PT', 'SE']"
# The same audience as the shipped file's, but fed by the CRM's profiles: a member without one leaves it.
CRM_AUDIENCES = """-- audience: newsletter
-- list: Newsletter
-- permission: email_newsletter
-- on_exit: remove
-- properties: firstname, country
create or replace view audience_newsletter as
select p.email, p.firstname, p.country
from crm.profiles p
join mailjet_sync.consent_current k on k.email = lower(trim(p.email))
where k.permission = 'email_newsletter' and k.granted
"""
RESULT = "BENCH_RESULT "  # the child's line of figures on stdout
GIB = 1024
GOALS = {"plan": 10.0, "diff": 5.0, "rss": 600.0}  # issue 27: 1M x 1M, idle 2 cores


def build(db: Path, people: int, members: int) -> None:
    """Write the warehouse (raw Mailjet tables, CRM tables, the sync's snapshot), then the views."""
    n, offset = members, members // 20
    con = duckdb.connect(str(db))
    try:
        con.execute(f"create schema {API_DATASET}")
        for name in ("contacts", "contact_lists", "list_recipients", "contact_properties", "bounces"):
            columns = ", ".join(f"{c} {t}" for c, t in RAW_TABLES["api"][name].sql_columns().items())
            con.execute(f"create table {API_DATASET}.{name} ({columns})")
        con.execute("set variable extracted = now()")
        con.execute(
            f"insert into {API_DATASET}.contacts (id, email, is_excluded_from_campaigns, is_opt_in_pending, "
            "is_spam_complaining, created_at, _extracted_at) "
            "select i + 1, 'user' || i || '@example.com', i % 1000 = 10, false, i % 1000 = 20, "
            f"timestamptz '2023-01-01', getvariable('extracted') from range({n}) t(i)"
        )
        con.execute(
            f"insert into {API_DATASET}.contact_lists (id, name, is_deleted, _extracted_at) values "
            f"({LIST_ID}, 'Newsletter', false, getvariable('extracted')), "
            f"({LIST_ID + 1}, 'Service messages', false, getvariable('extracted'))"
        )
        con.execute(
            f"insert into {API_DATASET}.list_recipients (id, contact_id, list_id, list_name, "
            "is_unsubscribed, is_active, subscribed_at, unsubscribed_at, _extracted_at) "
            f"select i + 1, i + 1, {LIST_ID}, 'Newsletter', i % 20 = 13, true, "
            "timestamptz '2024-01-01' + to_days(cast(i % 365 as integer)), "
            "case when i % 20 = 13 then timestamptz '2025-01-01' + to_days(cast(i % 200 as integer)) end, "
            f"getvariable('extracted') from range({n}) t(i)"
        )
        con.execute(
            f"insert into {API_DATASET}.contact_properties (contact_id, name, value, _extracted_at) "
            "select i + 1, 'firstname', 'Name' || (i % 997), getvariable('extracted') "
            f"from range({n}) t(i) union all "
            f"select i + 1, 'country', {COUNTRIES}[i % 8 + 1], getvariable('extracted') from range({n}) t(i)"
        )
        con.execute(
            f"insert into {API_DATASET}.bounces (id, bounced_at, contact_id, is_blocked, is_state_permanent, "
            "_extracted_at) select i + 1, timestamptz '2025-03-01', i + 1, false, true, "
            f"getvariable('extracted') from range({n}) t(i) where i % 300 = 6"
        )
        con.execute(f"create schema {CRM_DATASET}")
        con.execute(
            f"create table {CRM_DATASET}.profiles (email varchar, firstname varchar, country varchar)"
        )
        con.execute(
            f"create table {CRM_DATASET}.consent_events (email varchar, permission varchar, "
            'granted boolean, "at" timestamp with time zone, source varchar)'
        )
        people_sql = (
            "select i, case when i % 5000 = 11 then 'user' || i || '.example.com' "
            "else 'user' || i || '@example.com' end as email "
            f"from range({offset}, {offset + people}) t(i)"
        )
        con.execute(
            f"insert into {CRM_DATASET}.profiles select email, 'Name' || (i % 997), "
            f"{COUNTRIES}[(i + (i % 50 = 4)::integer) % 8 + 1] from ({people_sql}) "
            "union all "  # duplicates: the same person again, spelled otherwise
            f"select ' ' || upper(email), 'Name' || (i % 997), {COUNTRIES}[i % 8 + 1] from ({people_sql}) "
            "where i % 5000 = 23"
        )
        con.execute(
            f"insert into {CRM_DATASET}.consent_events select email, 'email_newsletter', true, "
            f"timestamptz '2024-10-01' + to_days(cast(i % 400 as integer)), 'crm' from ({people_sql}) "
            "where i % 100 <> 99 "
            "union all "
            f"select email, 'email_newsletter', false, timestamptz '2025-12-01', 'crm' from ({people_sql}) "
            "where i % 200 = 7"
        )
        con.execute(f"create schema {SYNC_DATASET}")
        columns = ", ".join(f'"{c}" {t}' for c, t in TABLES["sync_snapshot"].items())
        con.execute(f"create table {SYNC_DATASET}.sync_snapshot ({columns})")
        con.execute(
            f"insert into {SYNC_DATASET}.sync_snapshot "
            "(audience, list_id, email, managed_since, last_action, last_run_id) "
            f"select '{AUDIENCE}', {LIST_ID}, "
            "'user' || i || '@example.com', timestamptz '2025-01-01', 'addnoforce', 1 "
            f"from range({n}) t(i) where i % 2 = 0"
        )
        con.execute("checkpoint")
    finally:
        con.close()
    with open_pipeline(str(db), None, API_DATASET).sql_client() as client:
        publish_views(client)


def label(sql: str) -> str:
    """A short name for a statement: what it creates or writes to, else its first words; for a statement
    with common table expressions, the first of them that is not its parameters (several statements
    write to one table)."""
    text = " ".join(sql.split())
    found = re.match(
        r"(create (?:temporary )?table(?: if not exists)?|create or replace view|insert into|update"
        r"|drop table if exists) ([\w.]+)",
        text,
        re.IGNORECASE,
    )
    if not found:
        return text[:70]
    name = f"{found.group(1).lower()} {found.group(2)}"
    ctes = [
        c for c in re.findall(r"(?:with|,)\s+(\w+) as \(", text, re.IGNORECASE) if not c.endswith("params")
    ]
    return f"{name} ({ctes[0]})" if ctes and not name.startswith("create or replace view") else name


def vm_hwm_mib() -> float:
    """This process's peak resident set since it started or since `reset_hwm`, in MiB."""
    return peak_rss_mib(os.getpid())


def reset_hwm() -> None:
    """Start this process's peak resident set again from its current one (Linux: /proc/self/clear_refs)."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
        refs.write("5")


def child(db: str, audiences: str) -> None:
    """Plan the audience with timing wrappers around its phases; print the figures as one JSON line.

    Each SQL statement counts towards the phase running it: the diff (`build_inputs`, `insert_plan`,
    `insert_held`), building the audience (`_aud`), or the stretch of the plan between two wrapped
    functions it ran in."""
    from dlt.destinations.impl.duckdb.sql_client import DuckDbSqlClient

    import pipelines.sync.plan as planning
    from pipelines import warehouse
    from pipelines.plan import plan
    from pipelines.sync import datatests
    from pipelines.sync.config import SyncConfiguration

    phases: dict[str, float] = defaultdict(float)
    statements: dict[str, float] = defaultdict(float)
    steps: list[tuple[str, float, float]] = []  # each statement and Python step: name, seconds, peak MiB
    peak = [vm_hwm_mib()]  # the process's peak, kept here: each step starts the kernel's count again
    diff_statements: dict[str, float] = defaultdict(float)
    marks: dict[str, float] = {}
    stage: list[str | None] = ["SQL: setup (tables, lists, layout, data age)"]

    execute_sql = DuckDbSqlClient.execute_sql

    def step_began() -> float:
        peak[0] = max(peak[0], vm_hwm_mib())
        reset_hwm()
        return time.perf_counter()

    def step_ended(name: str, began: float) -> float:
        seconds = time.perf_counter() - began
        top = vm_hwm_mib()
        peak[0] = max(peak[0], top)
        steps.append((name, seconds, top))
        return seconds

    def timed_execute(self: Any, sql: Any, *args: Any, **kwargs: Any) -> Any:
        began = step_began()
        try:
            return execute_sql(self, sql, *args, **kwargs)
        finally:
            name = label(str(sql))
            seconds = step_ended(name, began)
            statements[name] += seconds
            if stage[0] == "diff":
                diff_statements[name] += seconds
            elif name == "create temporary table _aud":
                phases["audience built (_aud)"] += seconds
            elif stage[0] not in (None, "diff"):
                phases[stage[0]] += seconds

    def timed(name: str, fn: Callable[..., Any], after: str | None = None) -> Callable[..., Any]:
        """`fn`, its time counted as `name`'s (its SQL too); the statements after it count as `after`'s."""

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            stage[0] = None if name != "diff" else "diff"
            began = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                phases[name] += time.perf_counter() - began
                stage[0] = after

        return wrapper

    original_fetch, original_tests = planning.fetch_arrow, planning.run_data_tests

    def fetch_arrow(*args: Any, **kwargs: Any) -> Any:
        marks["frame"] = step_began()
        return original_fetch(*args, **kwargs)

    def run_data_tests(*args: Any, **kwargs: Any) -> Any:
        began = marks.pop("frame", None)
        if began is not None:  # the frame: the SELECT, Arrow and pandas
            phases["audience frame (Arrow, pandas)"] += step_ended(
                "(Python) audience frame: Arrow, pandas", began
            )
        began = step_began()
        datatests._context()  # imported in the background since the views were read: what is left to wait
        from great_expectations.expectations.core import expect_column_values_to_be_unique  # noqa: F401

        phases["data tests: great-expectations import, the wait left"] += step_ended(
            "(Python) great-expectations import, the wait left", began
        )
        began = step_began()
        try:
            return original_tests(*args, **kwargs)
        finally:
            phases["data tests: validation"] += step_ended("(Python) data tests: validation", began)
            stage[0] = "SQL: data test rejections written"

    DuckDbSqlClient.execute_sql = timed_execute  # type: ignore[method-assign]
    patched = {
        "build_inputs": timed("diff", planning.build_inputs, "diff"),
        "insert_plan": timed("diff", planning.insert_plan, "diff"),
        "insert_held": timed("diff", planning.insert_held, "SQL: plan summaries, sync_runs row"),
        "fetch_arrow": fetch_arrow,
        "run_data_tests": run_data_tests,
        "create_ledger": timed("consent ledger views", planning.create_ledger, "SQL: audience view, columns"),
    }
    for name, fn in patched.items():
        setattr(planning, name, fn)
    warehouse.publish_views = timed("views published (after the plan)", warehouse.publish_views)  # type: ignore[attr-defined]

    rss_before = peak_rss_mib(os.getpid())
    began = time.perf_counter()
    result = plan(db=db, audience=AUDIENCE, audiences=audiences, config=SyncConfiguration())
    total = time.perf_counter() - began
    peak[0] = max(peak[0], vm_hwm_mib())
    item = result.plans[0]
    figures = {
        "total": total,
        "rss_before": rss_before,
        "phases": phases,
        "diff_statements": diff_statements,
        "statements": statements,
        "steps": steps,
        "peak": peak[0],
        "audience_rows": item.audience_rows,
        "list_members": item.list_members,
        "counts": {a: item.count(a) for a in planning.ACTIONS},
        "rejected": item.rejected,
        "held_back": item.held_back,
        "guards": {g.name: g.verdict for g in item.guards},
    }
    print(RESULT + json.dumps(figures), flush=True)


def run_plan(db: Path, audiences: Path, log: Path) -> tuple[float, float, dict[str, Any]]:
    """(wall seconds, peak RSS MiB, the child's figures) of one plan in its own process."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(db), "--audiences", str(audiences)]
    began = time.perf_counter()
    with log.open("w", encoding="utf-8") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - began
    lines = [line for line in out.splitlines() if line.startswith(RESULT)]
    if os.waitstatus_to_exitcode(status) != 0 or not lines:
        raise SystemExit(f"plan failed:\n{out}\n{log.read_text(encoding='utf-8')}")
    return seconds, usage.ru_maxrss / 1024, json.loads(lines[-1][len(RESULT) :])


def median_of(runs: list[dict[str, Any]], key: str) -> dict[str, float]:
    """Name -> median seconds over the runs of their `key` figures, slowest first."""
    names = {name for r in runs for name in r[key]}
    medians = {name: statistics.median(r[key].get(name, 0.0) for r in runs) for name in names}
    return dict(sorted(medians.items(), key=lambda kv: -kv[1]))


def print_steps(runs: list[dict[str, Any]], shown: float = 0.005) -> None:
    """Each statement and Python step of the plan in the order it ran: its median seconds and the highest
    peak RSS of the process while it ran; the quick ones (under `shown` seconds) summed on one line."""
    names = [name for name, _, _ in runs[0]["steps"]]
    same = [r for r in runs if [name for name, _, _ in r["steps"]] == names]
    print(f"each step of the plan, in order (median seconds of {len(same)} run(s); peak RSS while it ran):")
    quick, quick_seconds = 0, 0.0
    for i, name in enumerate(names):
        seconds = statistics.median(r["steps"][i][1] for r in same)
        top = max(r["steps"][i][2] for r in same)
        if seconds < shown:
            quick, quick_seconds = quick + 1, quick_seconds + seconds
            continue
        print(f"  {i:>3} {seconds:>7.2f} s {top:>6,.0f} MiB  {name}")
    print(f"  ... {quick} more statements under {shown * 1000:.0f} ms: {quick_seconds:.2f} s in all")


def counted(items: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in sorted(items.items())) or "none"


def verdict(value: float, goal: float) -> str:
    return "within" if value <= goal else "OVER"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000, help="CRM profiles")
    parser.add_argument("--members", type=int, default=1_000_000, help="Mailjet contacts, list members")
    parser.add_argument("--repeat", type=int, default=3, help="plans, each on a fresh copy of the database")
    parser.add_argument("--db", type=Path, help="build the database here (kept), or reuse it if it exists")
    parser.add_argument(
        "--crm-audience",
        action="store_true",
        help="an audience fed by crm.profiles instead of the shipped one: members without a profile leave",
    )
    parser.add_argument("--audiences", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, str(args.audiences))
        return
    recorded = Figures()
    scale = f"{args.people:,} people x {args.members:,} members"
    goal_for = None if args.people == args.members == 1_000_000 else "1,000,000 people x 1,000,000 members"

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        db = args.db or work / "build" / "bench.duckdb"
        if db.exists():
            print(f"database: reusing {db} ({db.stat().st_size / 1e6:,.0f} MB)")
        else:
            db.parent.mkdir(parents=True, exist_ok=True)
            began = time.perf_counter()
            build(db, args.people, args.members)
            print(
                f"database: {args.members:,} Mailjet list members, {args.people:,} CRM people; built in "
                f"{time.perf_counter() - began:.1f} s ({db.stat().st_size / 1e6:,.0f} MB)",
                flush=True,
            )
        audiences = SHIPPED_AUDIENCES
        if args.crm_audience:
            audiences = work / "audiences.sql"
            audiences.write_text(CRM_AUDIENCES, encoding="utf-8")
        print(f"audiences: {audiences} (audience {AUDIENCE})", flush=True)

        runs: list[dict[str, Any]] = []
        for n in range(1, args.repeat + 1):
            copy = work / f"run{n}" / db.name
            copy.parent.mkdir()
            shutil.copyfile(db, copy)
            state = db.parent / f".{db.name}.dlt"
            if state.is_dir():
                shutil.copytree(state, copy.parent / state.name)
            load = os.getloadavg()[0]  # another busy process skews the figures: say so
            wall, peak, figures = run_plan(copy, audiences, work / f"run{n}.log")
            peak = max(peak, figures["peak"])  # the child counts its peak itself: it restarts the kernel's
            figures.update(wall=wall, peak=peak)
            runs.append(figures)
            print(
                f"plan {n}/{args.repeat}: {figures['total']:.1f} s in plan() ({wall:.1f} s for the process); "
                f"diff {figures['phases'].get('diff', 0.0):.1f} s; peak RSS {peak:,.0f} MiB "
                f"({figures['rss_before']:,.0f} MiB before plan()); load average before {load:.1f}",
                flush=True,
            )
            shutil.rmtree(copy.parent)

        total = statistics.median(r["total"] for r in runs)
        diff = statistics.median(r["phases"].get("diff", 0.0) for r in runs)
        peak = max(r["peak"] for r in runs)
        print(
            f"plan (median of {len(runs)}): {total:.1f} s, "
            f"{verdict(total, GOALS['plan'])} the goal <= {GOALS['plan']:.0f} s"
        )
        print(
            f"peak RSS (highest): {peak:,.0f} MiB, "
            f"{verdict(peak, GOALS['rss'])} the goal <= {GOALS['rss']:.0f} MiB"
        )
        print(f"diff (median): {diff:.2f} s, {verdict(diff, GOALS['diff'])} the goal < 5 s")
        recorded.record(f"plan {scale}: median in plan()", total, "s", GOALS["plan"], goal_for=goal_for)
        recorded.record(f"plan {scale}: peak RSS", peak, "MiB", GOALS["rss"], goal_for=goal_for)
        recorded.record(f"plan {scale}: the diff (median)", diff, "s", GOALS["diff"], goal_for=goal_for)
        print("phases (median seconds):")
        medians = median_of(runs, "phases")
        for name, seconds in medians.items():
            print(f"  {name:<45}{seconds:>7.2f}")
        other = total - sum(medians.values())
        print(f"  {'other (Python; dlt: lock, pipelines, commit)':<45}{other:>7.2f}")
        print("the diff's statements (median seconds):")
        for name, seconds in median_of(runs, "diff_statements").items():
            if seconds >= 0.005:
                print(f"  {name:<70}{seconds:>7.2f}")
        print_steps(runs)
        last = runs[-1]
        print(
            f"planned: audience {last['audience_rows']:,} rows; list {last['list_members']:,} subscribed "
            f"members; adds {last['counts']['addnoforce']:,}, unsubs {last['counts']['unsub']:,}, "
            f"removes {last['counts']['remove']:,}, updates {last['counts']['update']:,}"
        )
        print(f"  rejected (data tests): {counted(last['rejected'])}")
        print(f"  held back: {counted(last['held_back'])}")
        print("  guards: " + ", ".join(f"{k} {v}" for k, v in last["guards"].items()))


if __name__ == "__main__":
    main()
