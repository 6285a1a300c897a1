"""Benchmark of the `mailjet` views against the raw `mailjet_api` tables they read: the same analyst
queries over `mailjet.list_recipients` and over `mailjet_api.list_recipients`, with a CSV import's
memberships beside the API's (half of them about Mailjet contacts). Prints medians; asserts nothing.

    .venv/bin/python bench/views.py --contacts 1000000 --csv-rows 100000
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
from common import AUTH, Figures, start_sandbox

QUERIES = {
    "members per list": (
        "select list_id, count(*) filter (where not is_unsubscribed), "
        "count(*) filter (where is_unsubscribed) from {layer}.list_recipients group by list_id"
    ),
    "subscribed members joined to contacts": (
        "select count(*) from {layer}.list_recipients r join {layer}.contacts c on c.id = r.contact_id "
        "where not r.is_unsubscribed"
    ),
    "one list's subscribed emails": (
        "select c.email from {layer}.list_recipients r join {layer}.contacts c on c.id = r.contact_id "
        "where r.list_id = 1001 and not r.is_unsubscribed"
    ),
}


def cli(db: Path, env: dict[str, str], *args: str) -> float:
    """Seconds one `mailjet-elt` command took; exits on failure."""
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "--db", str(db), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return time.perf_counter() - began


def timed(con: duckdb.DuckDBPyConnection, sql: str, repeat: int) -> tuple[float, int]:
    """Median milliseconds of `repeat` runs of `sql` (after one warm-up), and its row count."""
    rows = len(con.sql(sql).fetchall())
    runs = []
    for _ in range(repeat):
        began = time.perf_counter()
        con.sql(sql).fetchall()
        runs.append((time.perf_counter() - began) * 1000)
    return statistics.median(runs), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000, help="one membership each")
    parser.add_argument("--csv-rows", type=int, default=100_000, help="memberships imported from a file")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    figures = Figures()

    proc, base, ready = start_sandbox(args.contacts, messages=0)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILJET__")}
    env.update(MAILJET__BASE_URL=base, MAILJET__API_KEY=AUTH[0], MAILJET__API_SECRET=AUTH[1])
    try:
        print(f"sandbox: {args.contacts:,} contacts; ready in {ready:.1f} s")
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "bench.duckdb"
            seconds = cli(db, env, "extract", "--resources", "contacts,contact_lists,list_recipients")
            print(f"extract (contacts, lists, memberships): {seconds:.1f} s")
            with duckdb.connect(str(db), read_only=True) as con:
                known = [
                    r[0]
                    for r in con.sql(
                        f"select email from mailjet_api.contacts order by id limit {args.csv_rows // 2}"
                    ).fetchall()
                ]
            export = Path(tmp) / "export.csv"
            with export.open("w", encoding="utf-8") as out:
                out.write("email,status\n")
                for i in range(args.csv_rows):
                    email = known[i // 2] if i % 2 == 0 and i // 2 < len(known) else f"file{i}@example.org"
                    out.write(f"{email},{'unsubscribed' if i % 20 == 0 else 'subscribed'}\n")
            seconds = cli(db, env, "import-csv", str(export), "--list", "Newsletter")
            print(f"import-csv ({args.csv_rows:,} memberships): {seconds:.1f} s")
            with duckdb.connect(str(db), read_only=True) as con:
                raw = con.sql("select count(*) from mailjet_api.list_recipients").fetchall()[0][0]
                seen = con.sql("select count(*) from mailjet.list_recipients").fetchall()[0][0]
                print(f"rows: mailjet_api.list_recipients {raw:,}; mailjet.list_recipients {seen:,}")
                print(
                    f"{'query':<40}{'raw ms':>10}{'view ms':>10}{'ratio':>8}{'raw rows':>10}{'view rows':>10}"
                )
                for name, sql in QUERIES.items():
                    raw_ms, raw_rows = timed(con, sql.format(layer="mailjet_api"), args.repeat)
                    view_ms, view_rows = timed(con, sql.format(layer="mailjet"), args.repeat)
                    figures.record(f"views {args.contacts:,}: {name}, view / raw", view_ms / raw_ms, "x")
                    print(
                        f"{name:<40}{raw_ms:>10.1f}{view_ms:>10.1f}{view_ms / raw_ms:>8.2f}"
                        f"{raw_rows:>10,}{view_rows:>10,}"
                    )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
