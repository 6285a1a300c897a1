"""`mailjet-elt demo`: a seeded sandbox in-process, toured."""

from __future__ import annotations

import argparse

from pipelines.cli.helptext import add_command
from pipelines.cli.options import After, Commands, count
from pipelines.interrupts import InterruptHandler

NAME = "demo"


def add(commands: Commands, after: After) -> None:
    """The command's arguments."""
    demo = add_command(
        commands,
        NAME,
        parents=[after.logging],
        summary="start a seeded sandbox in-process and tour it",
        description="Starts a seeded sandbox in this process and runs every step against it over real "
        "HTTP: extract into demo_mailjet_elt.duckdb, import a CSV export, load demo CRM data, plan, apply, "
        "extract and plan again, then reports what each step did and three queries to try. No account is "
        "touched.",
        examples=["demo", "demo --contacts 300 --destination postgres"],
        exits=[
            ("0", "every step ended as planned"),
            ("1", "a step did not end as planned (the report says which)"),
            ("2", "bad usage, or a --destination that cannot be used"),
        ],
    )
    demo.add_argument("--contacts", type=count, default=2000, help="contacts to seed")
    demo.add_argument(
        "--destination",
        default=argparse.SUPPRESS,  # mailjet-elt --destination NAME demo gives it too
        metavar="NAME",
        help="load into this dlt destination (e.g. postgres, configured the dlt way) instead of "
        "demo_mailjet_elt.duckdb; nothing in it is deleted",
    )


def handle(args: argparse.Namespace, stop: InterruptHandler) -> int:
    from pipelines.demo import run_demo

    return run_demo(contacts=args.contacts, destination=args.destination)
