"""`mailjet-elt plan`: the audiences built, tested and diffed against their lists; sends nothing."""

from __future__ import annotations

import argparse

from pipelines.cli.helptext import FAILED, STOPPED, USAGE, add_command
from pipelines.cli.options import After, Commands, add_format
from pipelines.interrupts import InterruptHandler

NAME = "plan"


def add(commands: Commands, after: After) -> None:
    """The command's arguments."""
    plan = add_command(
        commands,
        NAME,
        parents=after,
        summary="build the audiences, test them, diff them against their lists; sends nothing",
        description="Builds each audience of the audiences file, tests its rows, diffs it against its "
        "Mailjet list and writes the plan to mailjet_sync, then prints it: who joins, leaves or "
        "unsubscribes, and why. Sends nothing to Mailjet: apply sends the plan.",
        examples=["plan", "plan --audience newsletter --format json"],
        exits=[
            ("0", "planned, no guard stops it"),
            FAILED,
            USAGE,
            ("3", "planned, and a guard stops a plan (STOP): apply will not send it; read the plan"),
            STOPPED,
        ],
    )
    plan.add_argument("--audience", default=None, metavar="NAME", help="plan only this audience")
    plan.add_argument(
        "--audiences",
        default=None,
        metavar="PATH",
        help="the audiences file (default ./audiences.sql when present, else the shipped one)",
    )
    add_format(plan)


def handle(args: argparse.Namespace, stop: InterruptHandler) -> object:
    from pipelines.plan import plan

    return plan(
        db=args.db,
        destination=args.destination,
        audience=args.audience,
        audiences=args.audiences,
        interrupts=stop,
        lock_wait=args.lock_wait,
    )
