"""`mailjet-elt report`: the analysts' models as one self-contained HTML file."""

from __future__ import annotations

import argparse

from pipelines.cli.helptext import DONE, USAGE, add_command
from pipelines.cli.options import After, Commands, add_format
from pipelines.interrupts import InterruptHandler

NAME = "report"


def add(commands: Commands, after: After) -> None:
    """The command's arguments."""
    report = add_command(
        commands,
        NAME,
        parents=after,
        summary="the models as one HTML file: charts with their figures, opens with no network",
        description="Writes one self-contained HTML file from the mailjet_models models: the latest "
        "campaigns' open and click rates, subscribes and unsubscribes per week and per list, bounces by "
        "domain and by reason, the campaigns with the highest spam rate, contacts per engagement tier, and "
        "what the sync changed per day. Each chart's figures are printed in a table beside it. The chart "
        "library (Chart.js) is copied into the file, which loads nothing: it opens in any browser with no "
        "network. Reads only.",
        examples=["report", "report --out /tmp/mailjet.html", "--db other.duckdb report --format json"],
        exits=[DONE, ("1", "the database could not be read, or the file not written"), USAGE],
    )
    report.add_argument(
        "--out",
        default="report.html",
        metavar="FILE",
        help="the HTML file to write (default report.html; - for stdout); it replaces only an earlier report",
    )
    add_format(report)


def handle(args: argparse.Namespace, stop: InterruptHandler) -> object:
    import json

    from pipelines.errors import write_out
    from pipelines.logs import now_text
    from pipelines.report_html import as_document, describe, write_report

    report = write_report(
        db=args.db, out=args.out, destination=args.destination, lock_wait=args.lock_wait, stop=stop
    )
    if args.format == "json":
        document = as_document(report)
        write_out(
            json.dumps({"result": document.pop("result"), "at": now_text(), "exit_code": 0, **document})
        )
        write_out("\n")
    elif report.path == "-":  # the page went to stdout: what was written goes to stderr
        import sys

        sys.stderr.write(describe(report) + "\n")
    else:
        write_out(describe(report) + "\n")
    return 0
