"""`mailjet-elt import-csv`: contact CSV files exported from Mailjet into `mailjet_csv`."""

from __future__ import annotations

import argparse

from pipelines.cli.helptext import DONE, FAILED, STOPPED, USAGE, add_command
from pipelines.cli.options import After, Commands, add_format
from pipelines.interrupts import InterruptHandler

NAME = "import-csv"


def add(commands: Commands, after: After) -> None:
    """The command's arguments."""
    import_csv = add_command(
        commands,
        NAME,
        parents=after,
        summary="import contact CSV files exported from Mailjet -> mailjet_csv, seen through the same "
        "mailjet views",
        description="Imports contact CSV files exported from Mailjet's web app (or any spreadsheet) into "
        "mailjet_csv, one set of rows per file, seen through the same mailjet views as the extract's; "
        "rows that cannot be used go to mailjet.csv_rejections with their reason.",
        examples=[
            "import-csv export.csv",
            "import-csv newsletter.csv --list Newsletter",
        ],
        exits=[DONE, FAILED, USAGE, STOPPED],
    )
    import_csv.add_argument("files", nargs="+", metavar="FILE", help="CSV files, imported in this order")
    import_csv.add_argument(
        "--list",
        dest="list_ref",
        default=None,
        metavar="NAME_OR_ID",
        help="record the contacts as members of this list (subscribed unless a status column says otherwise)",
    )
    import_csv.add_argument(
        "--encoding", default=None, help="the files' encoding (default: detected; UTF-8 or Windows-1252)"
    )
    import_csv.add_argument(
        "--pad-short-rows",
        action="store_true",
        help="complete rows with fewer cells than the header with empty cells (Excel drops empty last cells)",
    )

    add_format(import_csv)


def handle(args: argparse.Namespace, stop: InterruptHandler) -> object:
    from pipelines.import_csv import import_csv

    return import_csv(
        db=args.db,
        destination=args.destination,
        files=args.files,
        list_ref=args.list_ref,
        encoding=args.encoding,
        pad_short_rows=args.pad_short_rows,
        interrupts=stop,
        lock_wait=args.lock_wait,
    )
