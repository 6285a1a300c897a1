"""`mailjet-elt run`: the scheduled job (extract, plan, apply)."""

from __future__ import annotations

import argparse

from pipelines.cli.options import Commands, add_format
from pipelines.interrupts import InterruptHandler

NAME = "run"


def add(commands: Commands, after: list[argparse.ArgumentParser]) -> None:
    """The command's arguments."""
    run = commands.add_parser("run", parents=after, help="the scheduled job: extract, then plan, then apply")
    run.add_argument(
        "--audiences",
        default=None,
        metavar="PATH",
        help="the audiences file (default ./audiences.sql when present, else the shipped one)",
    )
    run.add_argument(
        "--yes", action="store_true", help="do not ask before sending (needed without a terminal)"
    )
    add_format(run)


def handle(args: argparse.Namespace, stop: InterruptHandler) -> object:
    from pipelines.progress import ExtractProgress
    from pipelines.run import run

    return run(
        db=args.db,
        destination=args.destination,
        audiences=args.audiences,
        yes=args.yes,
        progress=ExtractProgress(),
        interrupts=stop,
        lock_wait=args.lock_wait,
    )
