"""The fixed cost of each command on a small account: CPU seconds per command, run in one process against a
sandbox in another, and how often each opened the DuckDB file afresh (each open reads the catalog and
applies the settings; while a command keeps the file open, dlt's connections share it instead).

    .venv/bin/python bench/small_commands.py [--contacts 60] [--repeat 5]

A command's CPU here excludes the sandbox's (its own process) and the interpreter's start and imports
(done once, before the first measure); the medians of `--repeat` rounds are printed."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb

from bench.common import AUTH, start_sandbox

AUDIENCE = (
    "-- audience: fans\n-- list: Fans\n-- on_exit: remove\n"
    "create or replace view audience_fans as select email from crm.profiles\n"
)


class Opens:
    """Counts the DuckDB files opened afresh (a connection that took more than 5 ms of CPU to open)."""

    def __init__(self) -> None:
        self.fresh = 0
        self._connect = duckdb.connect

    def install(self) -> None:
        def connect(*args: Any, **kwargs: Any) -> duckdb.DuckDBPyConnection:
            began = time.process_time()
            connection = self._connect(*args, **kwargs)
            self.fresh += time.process_time() - began > 0.005
            return connection

        duckdb.connect = connect  # type: ignore[assignment]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sandbox, base, _ = start_sandbox(args.contacts, job_seconds=0.02)
    os.environ |= {
        "MAILJET__BASE_URL": base,
        "MAILJET__API_KEY": AUTH[0],
        "MAILJET__API_SECRET": AUTH[1],
        "MAILJET__JOB_POLL_SECONDS": "0.02",
        "SYNC__READ_BACK_SECONDS": "0",
        "SYNC__MAX_REMOVAL_PCT": "100",
    }
    from pipelines.apply import apply
    from pipelines.extract import extract
    from pipelines.import_csv import import_csv
    from pipelines.load import load
    from pipelines.plan import plan
    from pipelines.run import run

    folder = Path(tempfile.mkdtemp(prefix="small-commands-"))
    db = str(folder / "bench.duckdb")
    audiences = folder / "audiences.sql"
    audiences.write_text(AUDIENCE, encoding="utf-8")
    opens = Opens()
    try:
        extract(db=db, progress=None)  # the imports, and the tables every later step finds
        with duckdb.connect(db, read_only=True) as con:
            emails = [str(r[0]) for r in con.sql("select email from mailjet.contacts order by id").fetchall()]
        opens.install()
        times: dict[str, list[float]] = {}
        fresh: dict[str, int] = {}
        for round_ in range(args.repeat):
            members = emails[: 10 + 5 * (round_ % 2)]  # every other round, five more to send
            profiles = folder / f"profiles-{round_}.csv"
            profiles.write_text("email\n" + "".join(f"{e}\n" for e in members), encoding="utf-8")
            steps: list[tuple[str, Callable[[], object]]] = [
                ("extract", lambda: extract(db=db, progress=None)),
                ("load", lambda f=str(profiles): load(db=db, file=f, table="profiles")),
                ("import-csv", lambda: import_csv(db=db, files=["examples/contacts.csv"], progress=False)),
                ("plan", lambda: plan(db=db, audiences=str(audiences))),
                ("apply", lambda: apply(db=db, audiences=str(audiences), yes=True)),
                ("run", lambda: run(db=db, audiences=str(audiences), yes=True)),
            ]
            for name, step in steps:
                opens.fresh = 0
                began = time.process_time()
                step()
                times.setdefault(name, []).append(time.process_time() - began)
                fresh[name] = opens.fresh
        print(f"{args.contacts} contacts, median of {args.repeat} rounds, CPU seconds of this process")
        for name, spent in times.items():
            median = statistics.median(spent)
            print(f"  {name:<11} {median:5.2f} s   DuckDB file opened afresh {fresh[name]}x")
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)


if __name__ == "__main__":
    main()
