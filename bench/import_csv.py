"""Benchmark of `mailjet-elt import-csv`: seconds and peak memory for a large export, first import and
re-import, with the time of each phase of the import (as `import-csv -v` logs them: sniff, parse/stage,
checks, load and its dlt steps, publish views) and the CPU seconds of all its threads (on a shared
machine, the figure that least depends on what else runs). Prints figures; asserts nothing.

The generated file looks like a spreadsheet-saved Mailjet export: semicolons, UTF-8 with a BOM, CRLF,
five property columns, a status column, a quoted field with an embedded delimiter every 100 rows, and
about 0.1 % invalid emails and 0.1 % duplicate emails.

    .venv/bin/python bench/import_csv.py --rows 1000000
    .venv/bin/python bench/import_csv.py --rows 100000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

import duckdb
from common import Figures, MeasuredRun, measured_run

GOAL_SECONDS, GOAL_ROWS = 20.0, 1_000_000  # issue 27: 1M rows in at most 20 s, idle 2 cores
COUNTRIES = ("FR", "DE", "IT", "ES", "NL", "BE", "PT", "SE")
PLANS = ("free", "pro", "team", "enterprise")


def write_export(path: Path, rows: int, seed: int = 7) -> None:
    """A `rows`-line export (plus header), written in chunks."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        f.write("Email;First Name;Last Name;Country;Plan;Newsletter;Status\r\n")
        chunk: list[str] = []
        for i in range(rows):
            if i % 1000 == 999:
                email = f"broken-{i}.example.com"  # no @: rejected
            elif i % 1000 == 500:
                email = f"Person.{i - 1}@Example.com"  # the previous row again: a duplicate
            else:
                email = f"person.{i}@example.com"
            last = f'"Smith; Jr. {i}"' if i % 100 == 0 else f"Smith{i % 977}"
            status = "unsubscribed" if rng.random() < 0.05 else "subscribed"
            chunk.append(
                f"{email};Ann{i % 1013};{last};{rng.choice(COUNTRIES)};{rng.choice(PLANS)};"
                f"{'TRUE' if rng.random() < 0.6 else 'FALSE'};{status}\r\n"
            )
            if len(chunk) == 50_000:
                f.write("".join(chunk))
                chunk.clear()
        f.write("".join(chunk))


def run_import(db: Path, export: Path) -> MeasuredRun:
    """One `mailjet-elt import-csv` subprocess, its phases logged as JSON lines on stderr (`-v`)."""
    return measured_run(
        dict(os.environ), db, "-v", "--log-format", "json", "import-csv", str(export), "--list", "Newsletter"
    )


def phases(stderr: str) -> dict[str, float]:
    """The seconds of each phase, from the `import-csv phases` log line."""
    for line in stderr.splitlines():
        if line.startswith("{") and '"phases"' in line:
            found = json.loads(line).get("phases")
            if isinstance(found, dict):
                return {str(k): float(v) for k, v in found.items()}
    return {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    figures = Figures()
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "mailjet_export.csv"
        began = time.perf_counter()
        write_export(export, args.rows)
        size = export.stat().st_size
        written = time.perf_counter() - began
        print(f"export: {args.rows:,} rows, {size / 1e6:,.1f} MB, written in {written:.1f} s")
        db = Path(tmp) / "bench.duckdb"
        for label in ("first import", "re-import"):
            run = run_import(db, export)
            print(
                f"{label}: {run.seconds:.1f} s = {args.rows / run.seconds:,.0f} rows/s; "
                f"CPU {run.cpu_seconds:.1f} s; peak RSS {run.peak_mib:,.0f} MiB"
            )
            rows = f"{args.rows:,} rows"
            figures.record(
                f"import-csv {rows}, {label}",
                run.seconds,
                "s",
                GOAL_SECONDS,
                goal_for=None if args.rows == GOAL_ROWS else f"{GOAL_ROWS:,} rows",
            )
            figures.record(f"import-csv {rows}, {label}: peak RSS", run.peak_mib, "MiB")
            print("  " + "\n  ".join(run.stdout.strip().splitlines()[:4]))
            timed = phases(run.stderr)
            rest = run.seconds - sum(v for k, v in timed.items() if not k.startswith("load: "))
            print(
                "  phases: "
                + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timed.items())
                + f"; start-up, lock and the rest {rest:.1f} s"
            )
        with duckdb.connect(str(db), read_only=True) as con:
            for table in ("contacts", "contact_properties", "list_recipients", "csv_rejections"):
                count = con.sql(f"select count(*) from mailjet.{table}").fetchall()[0][0]
                print(f"  mailjet.{table}: {count:,} rows")
        print(f"database: {db.stat().st_size / 1e6:,.0f} MB")


if __name__ == "__main__":
    main()
