"""`mailjet-elt apply`: the latest plan of each audience sent to Mailjet."""

from __future__ import annotations

import argparse

from pipelines.cli.helptext import STOPPED, add_command
from pipelines.cli.options import After, Commands, add_format
from pipelines.interrupts import InterruptHandler

NAME = "apply"


def add(commands: Commands, after: After) -> None:
    """The command's arguments."""
    apply = add_command(
        commands,
        NAME,
        parents=after,
        summary="send the latest plan of each audience to Mailjet (bulk jobs), record every outcome",
        description="Sends the latest plan of each audience to Mailjet in bulk jobs, reads the lists back "
        "to verify every change, and records each outcome in mailjet_sync. It asks first, unless --yes.",
        examples=["apply", "apply --audience newsletter --yes"],
        exits=[
            ("0", "applied, every change verified"),
            ("1", "a job failed or a change is not in the list; or Mailjet or the database failed: rerun"),
            ("2", "bad usage, settings or credentials, nothing planned yet, or not confirmed"),
            ("3", "a guard stopped it, nothing sent: the message says what clears it"),
            STOPPED,
        ],
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
