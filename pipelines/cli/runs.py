"""`mailjet-elt runs`: the latest runs of extract, import-csv, load, plan and apply."""

from __future__ import annotations

import argparse

from pipelines.cli.options import Commands, add_format, positive_int
from pipelines.interrupts import InterruptHandler

NAME = "runs"


def add(commands: Commands, after: list[argparse.ArgumentParser]) -> None:
    """The command's arguments."""
    runs = commands.add_parser(
        "runs",
        parents=after,
        help="the latest runs of the commands that write the warehouse: when, what, status, figures",
    )
    runs.add_argument(
        "--limit", type=positive_int, default=20, metavar="N", help="how many, newest first (default 20)"
    )
    add_format(runs)


def handle(args: argparse.Namespace, stop: InterruptHandler) -> object:
    from pipelines.errors import write_out
    from pipelines.runs_list import recent_runs, render_runs

    listing = recent_runs(
        db=args.db, destination=args.destination, limit=args.limit, lock_wait=args.lock_wait, stop=stop
    )
    write_out(render_runs(listing, args.format) + "\n")
    return 0
