"""Benchmark of the analysts' models and the HTML report at 1M contacts: a seeded sandbox extracted whole
into DuckDB (or a database given with --db, reused as it is), then each model of `mailjet_models` read to
the end (`select count(*) from (select * from MODEL)`) and `mailjet-elt report`, each in its own process:
wall seconds, CPU seconds and peak RSS. Prints figures; asserts nothing.

    .venv/bin/python bench/report.py --contacts 1000000
    .venv/bin/python bench/report.py --db /tmp/bench-report-1m.duckdb   # again, on the same database
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

import duckdb
from common import AUTH, Figures, MeasuredRun, measured_run, start_sandbox

from pipelines.warehouse.publish import model_names


def extracted(db: Path, contacts: int, env: dict[str, str]) -> None:
    """Extract a seeded sandbox of `contacts` into `db`."""
    proc, base, ready = start_sandbox(contacts)
    try:
        print(f"sandbox: {contacts:,} contacts, ready in {ready:.1f} s")
        env.update(MAILJET__BASE_URL=base, MAILJET__API_KEY=AUTH[0], MAILJET__API_SECRET=AUTH[1])
        run = measured_run(env, db, "extract")
        print(f"extract: {run.seconds:.1f} s, CPU {run.cpu_seconds:.1f} s, peak {run.peak_mib:.0f} MiB")
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="an extracted database to reuse (made there when missing)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, the median reported")
    args = parser.parse_args()
    figures = Figures()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILJET__")}
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "bench.duckdb"
        if not db.exists():
            extracted(db, args.contacts, env)
        with duckdb.connect(str(db), read_only=True) as con:
            sizes = {
                t: con.sql(f"select count(*) from mailjet.{t}").fetchall()[0][0]
                for t in ("contacts", "messages", "opens", "clicks", "bounces", "list_recipients")
            }
        print("rows: " + ", ".join(f"{t} {n:,}" for t, n in sizes.items()))
        print(f"{'':<24}{'rows':>10}{'median s':>10}{'CPU s':>8}{'peak MiB':>10}")
        for model in model_names():
            sql = f"select count(*) from (select * from mailjet_models.{model})"
            runs = [measured_run(env, db, "sql", sql, "--format", "json") for _ in range(args.repeat)]
            rows = runs[0].stdout.split(":")[-1].strip("}]\n ")
            _print(model, rows, runs)
            figures.record(f"model {model} at {args.contacts:,} contacts", _median(runs), "s")
        out = Path(tmp) / "report.html"
        runs = [measured_run(env, db, "report", "--out", str(out)) for _ in range(args.repeat)]
        _print("report", f"{out.stat().st_size // 1024:,} KiB", runs)
        figures.record(f"report at {args.contacts:,} contacts", _median(runs), "s")
        figures.record(
            f"report at {args.contacts:,} contacts, peak RSS", max(r.peak_mib for r in runs), "MiB"
        )


def _median(runs: list[MeasuredRun]) -> float:
    return statistics.median(r.seconds for r in runs)


def _print(name: str, rows: str, runs: list[MeasuredRun]) -> None:
    cpu = statistics.median(r.cpu_seconds for r in runs)
    peak = max(r.peak_mib for r in runs)
    print(f"{name:<24}{rows:>10}{_median(runs):>10.2f}{cpu:>8.2f}{peak:>10.0f}")


if __name__ == "__main__":
    main()
