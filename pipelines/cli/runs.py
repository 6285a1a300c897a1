"""`mailjet-elt runs`: the latest runs of extract, import-csv, load, plan and apply."""

from __future__ import annotations

import argparse

from pipelines.cli.helptext import DONE, USAGE, add_command
from pipelines.cli.options import After, Commands, add_format, positive_int
from pipelines.interrupts import InterruptHandler

NAME = "runs"


def add(commands: Commands, after: After) -> None:
    """The command's arguments."""
    runs = add_command(
        commands,
        NAME,
        parents=after,
        summary="the latest runs of the commands that write the warehouse: when, what, status, figures",
        description="Lists the latest runs of extract, import-csv, load, plan and apply (each step of run "
        "is one), newest first, from mailjet_sync.command_runs: when each started, how it ended (ok, "
        "failed, stopped, or interrupted: its process died), how long it took, and its figures or its "
        "error. Reads only.",
        examples=["runs", "runs --limit 5 --format json"],
        exits=[DONE, ("1", "the database could not be read"), USAGE],
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
