"""`mailjet-elt explain EMAIL`: one person's story, from what the warehouse holds."""

from __future__ import annotations

import argparse

from pipelines.cli.helptext import DONE, USAGE, add_command
from pipelines.cli.options import After, Commands, add_format
from pipelines.interrupts import InterruptHandler

NAME = "explain"


def add(commands: Commands, after: After) -> None:
    """The command's arguments."""
    explain = add_command(
        commands,
        NAME,
        parents=after,
        summary="one person's story: consent, suppression, memberships, plan and apply decisions, engagement",
        description="Tells why a person is (or is not) on each list, from what the warehouse holds: their "
        "Mailjet contacts; every consent event of the ledger (source, permission, time) and the one in force "
        "per permission; why no list may receive them (excluded from campaigns, spam complaint, hard "
        "bounce); their memberships and whether the sync made each; every change a plan decided about them, "
        "with its reason, evidence and what apply did (job, outcome, Mailjet's error); every time they were "
        "left out or refused; their messages, last open and last click. The address is compared as the "
        "sync compares addresses (case, surrounding blanks). Reads only.",
        examples=["explain astrid.morel.5@test.example.eu", "explain jane@example.com --format json"],
        exits=[DONE, ("1", "the database could not be read"), USAGE],
    )
    explain.add_argument("email", metavar="EMAIL", help="the person's email address")
    add_format(explain)


def handle(args: argparse.Namespace, stop: InterruptHandler) -> object:
    from pipelines.errors import write_out
    from pipelines.explain import explain, render_story

    story = explain(
        db=args.db, email=args.email, destination=args.destination, lock_wait=args.lock_wait, stop=stop
    )
    write_out(render_story(story, args.format) + "\n")
    return 0
