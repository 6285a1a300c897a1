"""`mailjet-elt plan`: the audiences built, tested and diffed against their lists; sends nothing."""

from __future__ import annotations

import argparse

from pipelines.cli.options import Commands, add_format
from pipelines.interrupts import InterruptHandler

NAME = "plan"


def add(commands: Commands, after: list[argparse.ArgumentParser]) -> None:
    """The command's arguments."""
    plan = commands.add_parser(
        "plan",
        parents=after,
        help="build the audiences, test them, diff them against their lists; sends nothing",
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
