"""`mailjet-elt check`: the `[mailjet]` credentials verified against the API; with `--writes`, which
reading of Mailjet's undocumented write behaviours the account follows."""

from __future__ import annotations

import argparse

from pipelines.cli.helptext import add_command
from pipelines.cli.options import After, Commands, add_format
from pipelines.interrupts import InterruptHandler

NAME = "check"


def add(commands: Commands, after: After) -> None:
    """The command's arguments."""
    check = add_command(
        commands,
        NAME,
        parents=[after.logging],
        summary="verify the [mailjet] credentials and that the API answers",
        description="Counts the account's contacts and lists with the [mailjet] credentials "
        "(.dlt/secrets.toml, or MAILJET__API_KEY and MAILJET__API_SECRET), to show that they work and that "
        "the API answers. With --writes, it also probes how the account answers writes, on a scratch list "
        "it deletes again.",
        examples=["check", "check --writes --yes --format json"],
        exits=[
            ("0", "the credentials work and the API answers"),
            (
                "1",
                "Mailjet cannot be reached, or the answer is not Mailjet's; with --writes, a probe failed "
                "midway (the cleanup still runs)",
            ),
            ("2", "bad or missing credentials or settings; with --writes, not confirmed"),
        ],
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
