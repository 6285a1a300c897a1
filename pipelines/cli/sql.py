"""`mailjet-elt sql`: SQL against the configured database."""

from __future__ import annotations

import argparse

from pipelines.cli.options import FORMATS_SQL, Commands
from pipelines.interrupts import InterruptHandler

NAME = "sql"


def add(commands: Commands, after: list[argparse.ArgumentParser]) -> None:
    """The command's arguments."""
    sql = commands.add_parser(
        "sql",
        parents=after,
        help="run SQL against the database and print the answer (no query: a prompt, or stdin's SQL)",
    )
    sql.add_argument("query", nargs="?", default=None, help='e.g. "select count(*) from mailjet.contacts"')
    sql.add_argument(
        "--format", choices=FORMATS_SQL, default="table", help="an aligned table (default), CSV or JSON"
    )
    sql.add_argument(
        "--allow-files",
        action="store_true",
        help="let a query read local files (read_csv, read_parquet, read_json); writing stays refused",
    )


def handle(args: argparse.Namespace, stop: InterruptHandler) -> int:
    from pipelines.sql import run_sql

    return run_sql(
        db=args.db,
        destination=args.destination,
        query=args.query,
        output=args.format,
        lock_wait=args.lock_wait,
        stop=stop,
        allow_files=args.allow_files,
    )
