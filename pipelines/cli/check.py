"""`mailjet-elt check`: the `[mailjet]` credentials verified against the API."""

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
    add_format(check)


def handle(args: argparse.Namespace, stop: InterruptHandler) -> object:
    from pipelines.api import run_check

    return run_check()
