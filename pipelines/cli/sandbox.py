"""`mailjet-elt sandbox`: the local Mailjet-compatible sandbox in the foreground."""

from __future__ import annotations

import argparse

from pipelines.cli.helptext import add_command
from pipelines.cli.options import QUIRKS, After, Commands, count, seconds
from pipelines.interrupts import InterruptHandler

NAME = "sandbox"


def add(commands: Commands, after: After) -> None:
    """The command's arguments."""
    sandbox = add_command(
        commands,
        NAME,
        parents=[after.logging],
        summary="run the local Mailjet-compatible sandbox in the foreground",
        description="A seeded, stateful stand-in for Mailjet's API on 127.0.0.1, for trying every command "
        "without an account. It prints its URL and the three MAILJET__ variables that point the other "
        "commands at it, then serves until Ctrl-C or SIGTERM.",
        examples=[
            "sandbox --contacts 5000",
            "sandbox --port 0 --faults rate_limit=20,error_rate=0.1",
        ],
        exits=[
            ("0", "stopped by Ctrl-C or SIGTERM"),
            ("2", "a bad option (--faults, --quirks, --now...), or the port is taken"),
        ],
    )
    sandbox.add_argument(
        "--port", type=int, default=8765, help="port on 127.0.0.1 (default %(default)s; 0 = any free port)"
    )
    sandbox.add_argument(
        "--contacts", type=count, default=1000, help="contacts to seed (default %(default)s)"
    )
    sandbox.add_argument(
        "--memberships", type=count, default=None, help="list memberships (default: one per contact)"
    )
    sandbox.add_argument(
        "--messages", type=count, default=None, help="messages of history (default: one per contact)"
    )
    sandbox.add_argument(
        "--seed",
        type=int,
        default=42,
        help="random seed (default %(default)s); same seed and --now = same data",
    )
    sandbox.add_argument(
        "--now", default=None, help="start the sandbox clock at this instant (RFC 3339 or Unix; default: now)"
    )
    sandbox.add_argument(
        "--faults",
        default="",
        help="e.g. rate_limit=20,error_rate=0.2,latency_ms=50,drop_rate=0.05,job_fail_rate=0.5,"
        "job_refuse_rate=0.1; add methods=POST+PUT to fault only requests with those methods",
    )
    sandbox.add_argument(
        "--quirks",
        default="",
        help="other readings of the API's ambiguities, comma-separated, or all (see docs/sandbox.md): "
        + ", ".join("listing-lag=SECONDS" if q == "listing-lag" else q for q in QUIRKS)
        + " (SECONDS: 2 when bare or under all)",
    )
    sandbox.add_argument(
        "--api-key", default="sandbox-api-key", help="API key clients must send (default %(default)s)"
    )
    sandbox.add_argument(
        "--api-secret",
        default="sandbox-api-secret",
        help="API secret clients must send (default %(default)s)",
    )
    sandbox.add_argument(
        "--sms-token", default="sandbox-sms-token", help="Bearer token for /v4/sms* (default %(default)s)"
    )
    sandbox.add_argument(
        "--job-seconds", type=seconds, default=0.5, help="how long async jobs take (default %(default)s)"
    )


def handle(args: argparse.Namespace, stop: InterruptHandler) -> int:
    from pipelines.sandbox import run_sandbox

    return run_sandbox(args)
