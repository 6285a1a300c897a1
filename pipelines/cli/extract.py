"""`mailjet-elt extract`: Mailjet into `mailjet_api`, incremental where the API allows."""

from __future__ import annotations

import argparse

from pipelines.cli.options import RESOURCES, Commands, add_format
from pipelines.interrupts import InterruptHandler

NAME = "extract"


def add(commands: Commands, after: list[argparse.ArgumentParser]) -> None:
    """The command's arguments."""
    extract = commands.add_parser(
        "extract",
        parents=after,
        help="Mailjet -> mailjet_api, seen through the mailjet views (DuckDB by default); incremental "
        "where possible",
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
    from pipelines.progress import ExtractProgress

    return extract(
        db=args.db,
        destination=args.destination,
        resources=args.resources,
        full_refresh=args.full_refresh,
        progress=ExtractProgress(),
        interrupts=stop,
        lock_wait=args.lock_wait,
    )
