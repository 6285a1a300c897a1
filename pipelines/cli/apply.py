"""`mailjet-elt apply`: the latest plan of each audience sent to Mailjet."""

from __future__ import annotations

import argparse

from pipelines.cli.options import Commands, add_format
from pipelines.interrupts import InterruptHandler

NAME = "apply"


def add(commands: Commands, after: list[argparse.ArgumentParser]) -> None:
    """The command's arguments."""
    apply = commands.add_parser(
        "apply",
        parents=after,
        help="send the latest plan of each audience to Mailjet (bulk jobs), record every outcome",
    )
    apply.add_argument("--audience", default=None, metavar="NAME", help="apply only this audience's plan")
    apply.add_argument(
        "--audiences",
        default=None,
        metavar="PATH",
        help="the audiences file: only its audiences are sent (default ./audiences.sql when present, else "
        "the shipped one)",
    )
    apply.add_argument(
        "--yes", action="store_true", help="do not ask for confirmation (needed without a terminal)"
    )
    apply.add_argument("--force", action="store_true", help="send a plan a guard stopped (never a stale one)")
    add_format(apply)


def handle(args: argparse.Namespace, stop: InterruptHandler) -> object:
    from pipelines.apply import apply

    return apply(
        db=args.db,
        destination=args.destination,
        audience=args.audience,
        audiences=args.audiences,
        yes=args.yes,
        force=args.force,
        interrupts=stop,
        lock_wait=args.lock_wait,
    )
