"""`mailjet-elt extract`: Mailjet into `mailjet_api`, incremental where the API allows."""

from __future__ import annotations

import argparse

from pipelines.cli.helptext import DONE, FAILED, STOPPED, USAGE, add_command
from pipelines.cli.options import RESOURCES, After, Commands, add_format
from pipelines.interrupts import InterruptHandler

NAME = "extract"


def add(commands: Commands, after: After) -> None:
    """The command's arguments."""
    extract = add_command(
        commands,
        NAME,
        parents=after,
        summary="Mailjet -> mailjet_api, seen through the mailjet views (DuckDB by default); incremental "
        "where possible",
        description="Reads the Mailjet account into the mailjet_api dataset, seen through the mailjet "
        "views: contacts, lists and their members, properties, campaigns, messages and their events. "
        "Incremental where the API allows: a rerun reads what changed since, and a stopped run resumes.",
        examples=[
            "extract",
            "extract --resources contacts,contact_lists,list_recipients --db prod.duckdb",
        ],
        exits=[DONE, FAILED, USAGE, STOPPED],
    )
    extract.add_argument(
        "--resources",
        default=None,
        metavar="A,B",
        help="only these resources, comma-separated (default: all): " + ", ".join(RESOURCES),
    )
    extract.add_argument(
        "--full-refresh",
        action="store_true",
        help="forget the incremental cursors and re-read all history (rows are merged, never duplicated)",
    )

    add_format(extract)


def handle(args: argparse.Namespace, stop: InterruptHandler) -> object:
    from pipelines.extract import extract
    from pipelines.memory import lean_allocators
    from pipelines.progress import ExtractProgress
    from pipelines.unneeded import refused

    lean_allocators()
    with refused():  # pandas: see pipelines/unneeded.py
        return extract(
            db=args.db,
            destination=args.destination,
            resources=args.resources,
            full_refresh=args.full_refresh,
            progress=ExtractProgress(),
            interrupts=stop,
            lock_wait=args.lock_wait,
        )
