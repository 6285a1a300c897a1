"""`mailjet-elt check`: the `[mailjet]` credentials verified against the API; with `--writes`, which
reading of Mailjet's undocumented write behaviours the account follows."""

from __future__ import annotations

import argparse

from pipelines.cli.options import Commands, add_format
from pipelines.interrupts import InterruptHandler

NAME = "check"


def add(commands: Commands, after: list[argparse.ArgumentParser]) -> None:
    """The command's arguments."""
    check = commands.add_parser(
        "check", parents=after, help="verify the [mailjet] credentials and that the API answers"
    )
    check.add_argument(
        "--writes",
        action="store_true",
        help="also probe how the account answers writes: creates a scratch list, a property and a few "
        "@example.com contacts, sends them bulk jobs, deletes the list and the property (asks first)",
    )
    check.add_argument(
        "--yes", action="store_true", help="with --writes: do not ask first (needed without a terminal)"
    )
    add_format(check)


def handle(args: argparse.Namespace, stop: InterruptHandler) -> object:
    if args.writes:
        from pipelines.check_writes import run_check_writes

        return run_check_writes(yes=args.yes)
    from pipelines.api import run_check

    return run_check()
