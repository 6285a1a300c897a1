"""Benchmark of `mailjet-elt apply` at scale: API calls per change, wall time and peak memory.

A sandbox of `--changes` contacts runs in its own process; every command runs in another, as a user runs
it (`extract`, `load`, `plan`, `apply --yes`), on one DuckDB file. The audience `bench` is every CRM
profile (one per Mailjet contact), fed to a list Mailjet lacks (apply creates it), `on_exit: remove`,
two properties. Three phases, each extract -> plan -> apply:

1. adds: `--changes` subscribes, with their properties;
2. a CRM change: 20 % of the profiles get another country (updates), 5 % leave the audience (removals);
3. nothing changed: the plan is empty and apply sends no write.

Prints per phase the changes, the jobs, the job polls, the other requests by kind (the read-back of each
job's contacts among them), (jobs + polls) / changes and every request of the apply per change (the
read-back included) against the goal of 1 %, the apply's wall time and its peak RSS. `--quirks` passes
sandbox quirks (`listing-lag=5`: listings lag 5 s behind each job; apply then reads again). Asserts nothing.

    .venv/bin/python bench/apply.py
    .venv/bin/python bench/apply.py --changes 20000 --job-seconds 0.5 --kills 0
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import requests
from common import AUTH, Figures, measured_cli, start_sandbox

AUDIENCES = """-- audience: bench
-- list: Bench
-- on_exit: remove
-- properties: firstname, country
create or replace view audience_bench as select email, firstname, country from crm.profiles
"""
GOAL = 0.01  # requests per change: jobs + polls, and with every read
GOAL_CONTACTS = 100_000  # the size the goal is set for (the default)


def kind(endpoint: str) -> str:
    """What a request counted by the sandbox was for."""
    method, path = endpoint.split(" ", 1)
    if method == "POST" and path.endswith("managemanycontacts"):
        return "job started"
    if method == "GET" and re.search(r"managemanycontacts/\{id\}$", path):
        return "job poll"
    if "batchjob" in path:
        return "error report read"
    if method == "GET" and path.endswith(("/listrecipient", "/contact")):
        return "list read (read-back, removals)"
    if method in ("POST", "PUT", "DELETE"):
        return "other write"
    return "other read"


def phase(
    name: str, env: dict[str, str], db: Path, base: str, audiences: Path, session: requests.Session
) -> dict[str, Any]:
    extract_s, _, _ = measured_cli(env, db, "extract")
    _, _, planned = measured_cli(env, db, "plan", "--audiences", str(audiences), "--format", "json")
    plan = json.loads(planned)
    changes = sum(n for p in plan["plans"] for reasons in p["actions"].values() for n in reasons.values())
    session.delete(f"{base}/_sandbox/requests", timeout=30).raise_for_status()
    seconds, rss, out = measured_cli(
        env, db, "apply", "--yes", "--audiences", str(audiences), "--format", "json"
    )
    result = json.loads(out)
    counts = session.get(f"{base}/_sandbox/requests", timeout=30).json()["by_endpoint"]
    kinds: Counter[str] = Counter()
    for endpoint, n in counts.items():
        kinds[kind(endpoint)] += n
    actions = Counter[str]()
    for p in plan["plans"]:
        for action, reasons in p["actions"].items():
            actions[action] += sum(reasons.values())
    jobs, polls = kinds["job started"], kinds["job poll"]
    return {
        "phase": name,
        "changes": changes,
        "actions": dict(actions),
        "jobs": jobs,
        "polls": polls,
        "ratio": (jobs + polls) / changes if changes else 0.0,
        "all_ratio": sum(kinds.values()) / changes if changes else 0.0,
        "requests": sum(kinds.values()),
        "kinds": dict(kinds),
        "endpoints": counts,
        "writes": kinds["job started"] + kinds["other write"],
        "seconds": seconds,
        "rss": rss,
        "extract_seconds": extract_s,
        "statuses": [r["status"] for r in result["runs"]],
    }


def killed_phase(
    env: dict[str, str], db: Path, base: str, audiences: Path, session: requests.Session, kills: int
) -> dict[str, Any]:
    """Plan a change, SIGKILL `apply` `kills` times at random moments, then let one finish; what the
    changelog, the job journal and a fresh plan say afterwards."""
    measured_cli(env, db, "extract")
    _, _, planned = measured_cli(env, db, "plan", "--audiences", str(audiences), "--format", "json")
    changes = sum(
        n for p in json.loads(planned)["plans"] for reasons in p["actions"].values() for n in reasons.values()
    )
    session.delete(f"{base}/_sandbox/requests", timeout=30).raise_for_status()
    rng = random.Random(3)
    cmd = [
        sys.executable,
        "-m",
        "pipelines.cli",
        "--db",
        str(db),
        "apply",
        "--yes",
        "--audiences",
        str(audiences),
    ]
    landed = 0
    for _ in range(kills):
        child = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            child.wait(timeout=rng.uniform(3.0, 12.0))
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGKILL)
            landed += 1
        child.wait()
    seconds, rss, _ = measured_cli(
        env, db, "apply", "--yes", "--audiences", str(audiences), "--format", "json"
    )
    counts = session.get(f"{base}/_sandbox/requests", timeout=30).json()["by_endpoint"]
    started = sum(n for e, n in counts.items() if kind(e) == "job started")
    with duckdb.connect(str(db), read_only=True) as con:
        logged, distinct = con.sql(
            "select count(*), count(distinct (run_id, email, action)) from mailjet_sync.sync_changelog "
            "where run_id = (select max(run_id) from mailjet_sync.sync_runs)"
        ).fetchall()[0]
        journal, keys = con.sql(
            "select count(*), count(distinct batch_key) from mailjet_sync.sync_jobs where run_id = "
            "(select max(run_id) from mailjet_sync.sync_runs)"
        ).fetchall()[0]
    measured_cli(env, db, "extract")
    _, _, replanned = measured_cli(env, db, "plan", "--audiences", str(audiences), "--format", "json")
    left = sum(
        n
        for p in json.loads(replanned)["plans"]
        for reasons in p["actions"].values()
        for n in reasons.values()
    )
    return {
        "changes": changes,
        "kills": landed,
        "logged": logged,
        "distinct": distinct,
        "journal": journal,
        "keys": keys,
        "started": started,
        "left": left,
        "seconds": seconds,
        "rss": rss,
    }


def record_phase(figures: Figures, r: dict[str, Any], contacts: int) -> None:
    """A phase's headline figures: requests per change against the goal (when it changed anything; the
    goal is set for the default 100,000 contacts), the apply's wall time and peak RSS."""
    name = f"apply phase {r['phase']} ({r['changes']:,} changes)"
    goal_for = None if contacts == GOAL_CONTACTS else f"{GOAL_CONTACTS:,} contacts"
    if r["changes"]:
        for figure, ratio in (("(jobs + polls)", r["ratio"]), ("every request", r["all_ratio"])):
            figures.record(f"{name}: {figure} / changes", 100 * ratio, "%", 100 * GOAL, goal_for=goal_for)
    figures.record(f"{name}: wall time", r["seconds"], "s")
    figures.record(f"{name}: peak RSS", r["rss"], "MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=GOAL_CONTACTS, help="contacts, and adds of phase 1")
    parser.add_argument("--job-seconds", type=float, default=2.0, help="how long each sandbox job runs")
    parser.add_argument("--batch-size", type=int, default=5000, help="contacts per job ([sync] batch_size)")
    parser.add_argument("--kills", type=int, default=3, help="SIGKILLs of the apply in phase 4 (0: skip it)")
    parser.add_argument("--quirks", default="", help="sandbox quirks, e.g. listing-lag=5")
    args = parser.parse_args()
    figures = Figures()

    proc, base, _ = start_sandbox(args.changes, job_seconds=args.job_seconds, quirks=args.quirks)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-apply-") as tmp:
            work = Path(tmp)
            db = work / "bench.duckdb"
            audiences = work / "audiences.sql"
            audiences.write_text(AUDIENCES, encoding="utf-8")
            env = {k: v for k, v in os.environ.items() if not k.startswith(("MAILJET__", "SYNC__"))}
            env.update(
                MAILJET__BASE_URL=base,
                MAILJET__API_KEY=AUTH[0],
                MAILJET__API_SECRET=AUTH[1],
                SYNC__BATCH_SIZE=str(args.batch_size),
            )
            session = requests.Session()
            session.auth = AUTH
            measured_cli(env, db, "extract")
            with duckdb.connect(str(db)) as con:
                con.execute(
                    "copy (select c.email, max(p.value) filter (where p.name = 'firstname') as firstname, "
                    "'XX' as country from mailjet.contacts c left join mailjet.contact_properties p on "
                    f"p.contact_id = c.id group by c.id, c.email order by c.id) to '{work / 'profiles.csv'}' "
                    "(header)"
                )
            measured_cli(env, db, "load", str(work / "profiles.csv"), "--table", "profiles")
            results = [phase("1 adds", env, db, base, audiences, session)]
            with duckdb.connect(str(db)) as con:
                con.execute(
                    "create or replace table crm.profiles as select * from (select *, row_number() over "
                    "(order by email) as n from crm.profiles) where n % 20 <> 1"
                )
                con.execute("update crm.profiles set country = 'FR' where n % 5 = 0")
                con.execute("alter table crm.profiles drop column n")
            results.append(phase("2 updates, removals", env, db, base, audiences, session))
            results.append(phase("3 nothing changed", env, db, base, audiences, session))
            killed = None
            if args.kills:
                with duckdb.connect(str(db)) as con:  # everyone back, and another country for all
                    con.execute(
                        f"create or replace table crm.profiles as select email, firstname, 'DE' as country "
                        f"from read_csv_auto('{work / 'profiles.csv'}', header = true)"
                    )
                killed = killed_phase(env, db, base, audiences, session, args.kills)
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    print(
        f"apply: {args.changes:,} sandbox contacts, jobs of {args.batch_size:,} contacts, each taking "
        f"{args.job_seconds:g} s in the sandbox" + (f"; quirks {args.quirks}" if args.quirks else "")
    )
    for r in results:
        acts = ", ".join(f"{a} {n:,}" for a, n in sorted(r["actions"].items())) or "none"
        ratio = f"{100 * r['ratio']:.3f} % (goal <= {100 * GOAL:g} %)" if r["changes"] else "n/a"
        every = f"{100 * r['all_ratio']:.3f} % (goal <= {100 * GOAL:g} %)" if r["changes"] else "n/a"
        kinds = ", ".join(f"{k} {n:,}" for k, n in sorted(r["kinds"].items()))
        print(
            f"\nphase {r['phase']}: {r['changes']:,} changes ({acts}); "
            f"runs {', '.join(r['statuses']) or '-'}\n"
            f"  jobs {r['jobs']:,}, polls {r['polls']:,}: (jobs + polls) / changes = {ratio}\n"
            f"  requests {r['requests']:,} ({kinds}); writes {r['writes']:,}\n"
            f"  every request of the apply, the read-back included, / changes = {every}\n"
            f"  apply {r['seconds']:.1f} s wall, peak RSS {r['rss']:.0f} MiB; extract before it "
            f"{r['extract_seconds']:.1f} s"
        )
        record_phase(figures, r, args.changes)
        for endpoint, n in sorted(r["endpoints"].items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"    {n:>6,}  {endpoint}")
    if killed is not None:
        k = killed
        print(
            f"\nphase 4 killed: {k['changes']:,} changes; apply SIGKILLed {k['kills']} times at random "
            "moments, then run to the end\n"
            f"  changelog rows {k['logged']:,} (distinct changes {k['distinct']:,}; "
            f"planned {k['changes']:,})\n"
            f"  jobs journaled {k['journal']:,} (distinct batches {k['keys']:,}); jobs Mailjet started "
            f"{k['started']:,}\n"
            f"  after an extract, a new plan has {k['left']:,} changes left\n"
            f"  the final apply {k['seconds']:.1f} s wall, peak RSS {k['rss']:.0f} MiB"
        )


if __name__ == "__main__":
    main()
