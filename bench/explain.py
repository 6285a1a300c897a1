"""Benchmark of `mailjet-elt explain EMAIL` at scale: one person's story on the 1M x 1M world of
bench/plan.py (its `build`: a million Mailjet list members, a million CRM people with their consent events,
half the members in `sync_snapshot`), after one plan of the shipped audience `newsletter`, with a million
messages (one per contact; a fifth opened, a twentieth clicked) beside it. Prints, per person, the median
time of `explain()` in the process (each part's statement, and the rest), the median wall time of the
command as a user runs it (`mailjet-elt --db DB explain EMAIL`, its own process: imports included), and
the peak RSS of each; asserts nothing. Goal (issue 28): under a second at 1M contacts.

The people: `user50007@example.com`, whose CRM withdrawal came after their Mailjet subscription (the
plan unsubscribes them); an address nobody knows; `many.events@example.com`, spelled otherwise in each of
its 600 CRM consent events (capitals, blanks around it), with 100 webhook unsubscribes, 400 messages,
opens and clicks.

The database is built once, at `--db` (default: mailjet-elt-bench/explain-PEOPLExMEMBERS.duckdb in the
system's temporary folder), then reused (`explain` only reads it); `--rebuild` makes it again.

    .venv/bin/python bench/explain.py
    .venv/bin/python bench/explain.py --people 20000 --members 20000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb
from common import Figures, measured_run, peak_rss_mib
from plan import AUDIENCE, LIST_ID, build

from pipelines.sync.audiences import SHIPPED_AUDIENCES
from pipelines.warehouse import open_pipeline
from pipelines.warehouse.datasets import API_DATASET, CRM_DATASET, RAW_TABLES
from pipelines.warehouse.publish import publish_views

WITHDRAWN = "user50007@example.com"  # a CRM withdrawal (2025-12-01) after their Mailjet subscription
UNKNOWN = "nobody.known@example.org"
MANY = "many.events@example.com"
PEOPLE = {"withdrawal after subscription": WITHDRAWN, "unknown address": UNKNOWN, "many events": MANY}
RESULT = "BENCH_RESULT "  # the child's line of figures on stdout
GOAL = 1.0  # seconds, issue 28
READY = ".ready"  # written beside the database once it is complete: a half-built one is never reused


def default_db(people: int, members: int) -> Path:
    return Path(tempfile.gettempdir()) / "mailjet-elt-bench" / f"explain-{people}x{members}.duckdb"


def add_engagement_and_many(db: Path, members: int) -> None:
    """Messages, opens and clicks for everybody; the person of many events (a contact, a membership, CRM
    events spelled otherwise, webhook unsubscribes, messages); then the views again."""
    many_id = members + 1
    con = duckdb.connect(str(db))
    try:
        for name in ("messages", "opens", "clicks", "events"):
            columns = ", ".join(f'"{c}" {t}' for c, t in RAW_TABLES["api"][name].sql_columns().items())
            con.execute(f"create table {API_DATASET}.{name} ({columns})")
        con.execute(
            f"insert into {API_DATASET}.messages (id, arrived_at, campaign_id, contact_id, contact_email, "
            "status, _extracted_at) select i + 1, timestamptz '2025-06-01' + to_minutes(i % 100000), 7, "
            f"i + 1, 'user' || i || '@example.com', 'sent', now() from range({members}) t(i)"
        )
        con.execute(
            f"insert into {API_DATASET}.opens (message_id, opened_at, arrived_at, campaign_id, contact_id, "
            "_extracted_at) select i + 1, timestamptz '2025-06-02' + to_minutes(i % 100000), "
            f"timestamptz '2025-06-01', 7, i + 1, now() from range({members}) t(i) where i % 5 = 0"
        )
        con.execute(
            f"insert into {API_DATASET}.clicks (id, message_id, clicked_at, contact_id, url, _extracted_at) "
            "select i + 1, i + 1, timestamptz '2025-06-03' + to_minutes(i % 100000), i + 1, "
            f"'https://example.com/', now() from range({members}) t(i) where i % 20 = 0"
        )
        con.execute(
            f"insert into {API_DATASET}.contacts (id, email, is_excluded_from_campaigns, is_opt_in_pending, "
            f"is_spam_complaining, created_at, _extracted_at) values ({many_id}, 'Many.Events@Example.com', "
            "false, false, false, timestamptz '2023-02-01', now())"
        )
        con.execute(
            f"insert into {API_DATASET}.list_recipients (id, contact_id, list_id, list_name, "
            "is_unsubscribed, is_active, subscribed_at, _extracted_at) values "
            f"({many_id}, {many_id}, {LIST_ID}, 'Newsletter', false, true, timestamptz '2024-03-01', now())"
        )
        spellings = ["Many.Events@Example.com", " MANY.EVENTS@EXAMPLE.COM", "many.events@example.com\t"]
        con.execute(
            f"insert into {CRM_DATASET}.consent_events select ($spellings)[i % 3 + 1], "
            "case when i % 2 = 0 then 'email_newsletter' else 'Email_Offers' end, i % 7 <> 3, "
            "timestamptz '2024-01-01' + to_hours(i * 13), case when i % 4 = 0 then 'form' else 'crm' end "
            "from range(600) t(i)",
            {"spellings": spellings},
        )
        con.execute(
            f"insert into {API_DATASET}.events (event_key, event, time, email, mj_list_id, source, "
            "received_at, _extracted_at) select 'k' || i, 'unsub', "
            "timestamptz '2024-02-01' + to_hours(i * 29), "
            f"'Many.Events@example.com', {LIST_ID}, 'webhook', now(), now() from range(100) t(i)"
        )
        con.execute(
            f"insert into {API_DATASET}.messages (id, arrived_at, campaign_id, contact_id, contact_email, "
            f"status, _extracted_at) select {members} + 1 + i, timestamptz '2024-06-01' + to_hours(i), 8, "
            f"{many_id}, 'many.events@example.com', 'sent', now() from range(400) t(i)"
        )
        con.execute(
            f"insert into {API_DATASET}.opens (message_id, opened_at, arrived_at, campaign_id, contact_id, "
            f"_extracted_at) select {members} + 1 + i, timestamptz '2024-06-02' + to_hours(i), "
            f"timestamptz '2024-06-01', 8, {many_id}, now() from range(400) t(i)"
        )
        con.execute("checkpoint")
    finally:
        con.close()
    with open_pipeline(str(db), None, API_DATASET).sql_client() as client:
        publish_views(client)


def prepare(db: Path, people: int, members: int, rebuild: bool) -> None:
    """The database at `db`: reused when complete, else built (plan.py's world, engagement, the person of
    many events) and planned once."""
    ready = db.with_name(db.name + READY)
    if ready.exists() and db.exists() and not rebuild:
        print(f"database: reusing {db} ({db.stat().st_size / 1e6:,.0f} MB)", flush=True)
        return
    for stale in (db, ready, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    shutil.rmtree(db.parent / f".{db.name}.dlt", ignore_errors=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    build(db, people, members)
    add_engagement_and_many(db, members)
    built = time.perf_counter() - began
    run = measured_run(
        dict(os.environ), db, "plan", "--audience", AUDIENCE, "--audiences", str(SHIPPED_AUDIENCES)
    )
    ready.write_text(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) + "\n", encoding="utf-8")
    print(
        f"database: {members:,} Mailjet list members, {people:,} CRM people, built in {built:.1f} s; "
        f"planned in {run.seconds:.1f} s ({db.stat().st_size / 1e6:,.0f} MB at {db})",
        flush=True,
    )


def child(db: str, emails: list[str], repeat: int) -> None:
    """Run `explain()` on each email `repeat` times in this process, timing each statement it runs (wall
    time: the rest is Python, building the statements); print the figures as one JSON line."""
    import pipelines.explain as explaining

    label = [""]
    rendered, render, story = explaining._rendered, explaining.models.render, explaining._story
    times: dict[str, float] = defaultdict(float)

    def labelled(part: str, *args: Any, **kwargs: Any) -> Any:
        label[0] = part
        return rendered(part, *args, **kwargs)

    def labelled_render(name: str, *args: Any, **kwargs: Any) -> str:
        label[0] = name
        return render(name, *args, **kwargs)

    def timed_story(*args: Any) -> Any:
        run = args[-1]  # the statements' runner: each statement is timed under the part it renders

        def timed_run(*run_args: Any) -> Any:
            began = time.perf_counter()
            try:
                return run(*run_args)
            finally:
                times[label[0] or "(other)"] += time.perf_counter() - began

        return story(*args[:-1], timed_run)

    explaining._rendered = labelled  # type: ignore[assignment]
    explaining.models.render = labelled_render  # type: ignore[assignment]
    explaining._story = timed_story  # type: ignore[assignment]
    figures: dict[str, Any] = {}
    for email in emails:
        runs = []
        for _ in range(repeat):
            times.clear()
            began, cpu = time.perf_counter(), time.process_time()
            found = explaining.explain(db=db, email=email)
            total, cpu = time.perf_counter() - began, time.process_time() - cpu
            runs.append({"total": total, "cpu": cpu, "parts": dict(times), "known": found.known})
        figures[email] = runs
    figures["peak"] = peak_rss_mib(os.getpid())
    print(RESULT + json.dumps(figures), flush=True)


def in_process(db: Path, emails: list[str], repeat: int) -> tuple[dict[str, Any], float]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(db), "--repeat", str(repeat)]
    cmd += emails
    with tempfile.TemporaryFile("w+", encoding="utf-8") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        err.seek(0)
        lines = [line for line in out.splitlines() if line.startswith(RESULT)]
        if os.waitstatus_to_exitcode(status) != 0 or not lines:
            raise SystemExit(f"explain failed:\n{out}\n{err.read()[-3000:]}")
    figures = json.loads(lines[-1][len(RESULT) :])
    return figures, max(usage.ru_maxrss / 1024, figures.pop("peak"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000, help="CRM profiles")
    parser.add_argument("--members", type=int, default=1_000_000, help="Mailjet contacts, list members")
    parser.add_argument("--repeat", type=int, default=5, help="explains of each person (the median is shown)")
    parser.add_argument("--db", type=Path, help="where the database is built once and then reused")
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("emails", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.emails, args.repeat)
        return
    recorded = Figures()
    scale = f"{args.members:,} contacts"
    goal_for = None if args.people == args.members == 1_000_000 else "1,000,000 contacts"
    db = args.db or default_db(args.people, args.members)
    prepare(db, args.people, args.members, args.rebuild)
    load = os.getloadavg()[0]
    figures, peak = in_process(db, list(PEOPLE.values()), args.repeat)
    env = dict(os.environ)
    print(f"explain, median of {args.repeat} (load average before {load:.1f}, {os.cpu_count()} cores):")
    worst_in, worst_cli, cli_peak = 0.0, 0.0, 0.0
    for who, email in PEOPLE.items():
        runs = figures[email]
        total = statistics.median(r["total"] for r in runs)
        total_cpu = statistics.median(r["cpu"] for r in runs)
        cli = [measured_run(env, db, "explain", email, "--format", "json") for _ in range(args.repeat)]
        wall = statistics.median(c.seconds for c in cli)
        cpu = statistics.median(c.cpu_seconds for c in cli)
        top = max(c.peak_mib for c in cli)
        worst_in, worst_cli, cli_peak = max(worst_in, total), max(worst_cli, wall), max(cli_peak, top)
        print(
            f"  {who} ({email}{'' if runs[0]['known'] else ', unknown'}): {total:.3f} s in explain() "
            f"({total_cpu:.2f} s CPU, all threads); "
            f"{wall:.3f} s for the command's process ({cpu:.2f} s CPU), peak RSS {top:,.0f} MiB"
        )
        names = list(runs[0]["parts"])
        parts = {name: statistics.median(r["parts"].get(name, 0.0) for r in runs) for name in names}
        shown = ", ".join(f"{name} {seconds:.3f}" for name, seconds in parts.items())
        print(f"    parts (s): {shown}; the rest {total - sum(parts.values()):.3f}")
        recorded.record(f"explain {scale}, {who}: median in explain()", total, "s", GOAL, goal_for=goal_for)
        recorded.record(f"explain {scale}, {who}: median of the process", wall, "s", goal_for=goal_for)
    print(f"peak RSS: {peak:,.0f} MiB in the in-process runs, {cli_peak:,.0f} MiB for the command's process")
    print(
        f"slowest person: {worst_in:.3f} s in explain(), {worst_cli:.3f} s for the process; "
        f"goal < {GOAL:.0f} s"
    )
    recorded.record(f"explain {scale}: peak RSS of the command", cli_peak, "MiB", goal_for=goal_for)


if __name__ == "__main__":
    main()
