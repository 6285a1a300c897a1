"""`mailjet-elt load`: the user's own CSV, Parquet or JSONL file into `crm.TABLE`."""

from __future__ import annotations

import argparse

from pipelines.cli.helptext import DONE, FAILED, STOPPED, USAGE, add_command
from pipelines.cli.options import After, Commands, add_format
from pipelines.interrupts import InterruptHandler

NAME = "load"


def add(commands: Commands, after: After) -> None:
    """The command's arguments."""
    load = add_command(
        commands,
        NAME,
        parents=after,
        summary="load your own CSV, Parquet or JSONL file (CRM profiles, consent events) into crm.TABLE",
        description="Loads your own CSV, Parquet or JSONL file into crm.TABLE, where the audiences read "
        "it (crm.profiles and crm.consent_events for the shipped ones): the file replaces the table in one "
        "transaction, or is added to it with --append.",
        examples=[
            "load profiles.csv --table profiles",
            "load consent.jsonl --table consent_events --append",
        ],
        exits=[DONE, FAILED, USAGE, STOPPED],
    )
    load.add_argument("file", metavar="FILE", help="a .csv (with a header line), .parquet or .jsonl file")
    load.add_argument(
        "--table",
        required=True,
        metavar="NAME",
        help="the table in dataset crm, e.g. profiles, consent_events",
    )
    load.add_argument("--append", action="store_true", help="add the rows (default: replace the table)")
    load.add_argument(
        "--allow-empty",
        action="store_true",
        help="let a file of no rows (a header alone) replace the table, leaving it empty",
    )
    add_format(load)


def handle(args: argparse.Namespace, stop: InterruptHandler) -> object:
    from pipelines.load import load

    return load(
        db=args.db,
        destination=args.destination,
        file=args.file,
        table=args.table,
        append=args.append,
        allow_empty=args.allow_empty,
        interrupts=stop,
        lock_wait=args.lock_wait,
    )
