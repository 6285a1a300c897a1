"""`mailjet-elt sql`: SQL against the configured database."""

from __future__ import annotations

import argparse

from pipelines.cli.helptext import DONE, add_command
from pipelines.cli.options import FORMATS_SQL, After, Commands
from pipelines.interrupts import InterruptHandler

NAME = "sql"


def add(commands: Commands, after: After) -> None:
    """The command's arguments."""
    sql = add_command(
        commands,
        NAME,
        parents=after,
        summary="run SQL against the database and print the answer (no query: a prompt, or stdin's SQL)",
        description="Runs SQL against the database and prints the answer as an aligned table, CSV or "
        "JSON. Without a query it reads SQL from stdin, or opens a prompt with history in a terminal. The "
        "DuckDB file is only read; local files too with --allow-files.",
        examples=[
            'sql "select count(*) from mailjet.contacts"',
            'sql --format csv "select * from mailjet.contact_lists" > lists.csv',
        ],
        exits=[
            DONE,
            ("1", "the query failed: the message says why"),
            ("2", "bad usage, or no database there yet"),
            ("130", "stopped by Ctrl-C"),
            ("141", "whoever read the output stopped reading (| head)"),
        ],
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
