"""`mailjet-elt run`: the scheduled job (extract, plan, apply)."""

from __future__ import annotations

import argparse

from pipelines.cli.helptext import DONE, FAILED, STOPPED, USAGE, add_command
from pipelines.cli.options import After, Commands, add_format
from pipelines.interrupts import InterruptHandler

NAME = "run"


def add(commands: Commands, after: After) -> None:
    """The command's arguments."""
    run = add_command(
        commands,
        NAME,
        parents=after,
        summary="the scheduled job: extract, then plan, then apply",
        description="The job to schedule: extract, then plan, then apply, as one unit holding the writer "
        "lock throughout. The first step that fails ends it with its exit code; a rerun resumes.",
        examples=[
            "run --yes",
            "--log-format json run --yes --format json >> run.log 2>&1",
        ],
        exits=[DONE, FAILED, USAGE, ("3", "a guard stopped the apply, nothing sent: read the plan"), STOPPED],
    )
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
