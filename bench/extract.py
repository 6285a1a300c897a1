"""Benchmark of `mailjet-elt extract`: rows/s end to end, API calls against the minimum, peak memory.

The sandbox runs in its own process; `mailjet-elt extract` runs in another, into a fresh DuckDB file,
so the extract's peak RSS is its own. Prints figures; asserts nothing.

    .venv/bin/python bench/extract.py --contacts 100000
    .venv/bin/python bench/extract.py --contacts 1000000
    .venv/bin/python bench/extract.py --contacts 100000 --latency-ms 50 --rate 20
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
from pathlib import Path

import duckdb
import requests
from common import AUTH, measured_cli, start_sandbox

from sources.mailjet.settings import ENDPOINTS

# Listings whose page holds one row per listed object even when the table gets several (or none).
LISTED_ROWS = {"contact_properties": "contacts"}


def run_extract(base: str, db: Path, concurrency: int, rate: float) -> tuple[float, float, str]:
    """(seconds, peak RSS MiB, stdout) of one `mailjet-elt extract` subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILJET__")}
    env.update(
        MAILJET__BASE_URL=base,
        MAILJET__API_KEY=AUTH[0],
        MAILJET__API_SECRET=AUTH[1],
        MAILJET__CONCURRENCY=str(concurrency),
        MAILJET__REQUESTS_PER_SECOND=str(rate),
    )
    return measured_cli(env, db, "extract")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--memberships", type=int, default=None, help="default: one per contact")
    parser.add_argument("--messages", type=int, default=None, help="default: one per contact")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added by the sandbox to every call")
    parser.add_argument("--rate", type=float, default=0.0, help="requests/s, client-side and sandbox-side")
    args = parser.parse_args()

    faults = ",".join(
        spec
        for spec in (
            f"latency_ms={args.latency_ms}" if args.latency_ms else "",
            f"rate_limit={args.rate}" if args.rate else "",
        )
        if spec
    )
    proc, base, ready = start_sandbox(args.contacts, args.memberships, args.messages, faults)
    try:
        print(f"sandbox: {args.contacts:,} contacts, faults: {faults or 'none'}; ready in {ready:.1f} s")
        requests.delete(f"{base}/_sandbox/requests", timeout=30)
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "bench.duckdb"
            seconds, peak, out = run_extract(base, db, args.concurrency, args.rate)
            with duckdb.connect(str(db), read_only=True) as con:
                rows = {t: con.sql(f"select count(*) from mailjet.{t}").fetchall()[0][0] for t in ENDPOINTS}
        calls = requests.get(f"{base}/_sandbox/requests", timeout=30).json()["by_endpoint"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    total_rows = sum(rows.values())
    total_calls = sum(calls.values())
    print(out.strip().splitlines()[0])
    print(f"{'table':<30}{'rows':>12}{'calls':>8}{'min':>8}")
    minimum_total = 0
    for table, endpoint in ENDPOINTS.items():
        listed = rows[LISTED_ROWS[table]] if table in LISTED_ROWS else rows[table]
        minimum = math.ceil(listed / 1000)
        minimum_total += minimum
        made = calls.get(f"GET /v3/REST/{endpoint}", 0)
        print(f"{table:<30}{rows[table]:>12,}{made:>8,}{minimum:>8,}")
    print(
        f"end to end: {total_rows:,} rows in {seconds:.1f} s = {total_rows / seconds:,.0f} rows/s; "
        f"API calls {total_calls:,} (minimum {minimum_total:,}); peak RSS of the extract {peak:,.0f} MiB"
    )
    if args.rate:
        bound = total_calls / args.rate
        print(f"rate-limit bound calls/rate = {bound:.1f} s; wall time / bound = {seconds / bound:.2f}")


if __name__ == "__main__":
    main()
