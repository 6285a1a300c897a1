"""`mailjet-elt api`: one authorized API call, its JSON answer printed."""

from __future__ import annotations

import argparse

from pipelines.cli.helptext import add_command
from pipelines.cli.options import After, Commands
from pipelines.interrupts import InterruptHandler

NAME = "api"


def add(commands: Commands, after: After) -> None:
    """The command's arguments."""
    api = add_command(
        commands,
        NAME,
        parents=[after.logging],
        summary="make one authorized API call and print the JSON answer",
        description="One call with the [mailjet] credentials, for a look at what Mailjet answers; its JSON "
        "answer is printed. PATH is a v3 REST resource, or a full path such as /v3.1/send. The call is sent "
        "once, never retried.",
        examples=[
            "api GET contactslist --param Limit=5",
            "api GET contact/jane@example.com",
        ],
        exits=[
            ("0", "Mailjet answered with success"),
            ("1", "Mailjet refused the call, or cannot be reached"),
            ("2", "bad --data or --param, or bad or missing credentials"),
        ],
    )
    api.add_argument("method", choices=("GET", "POST", "PUT", "DELETE", "get", "post", "put", "delete"))
    api.add_argument("path", help="e.g. contactslist, contact/jane@example.com or /v3.1/send")
    api.add_argument("--data", default=None, help="JSON request body")
    api.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="query parameter")


def handle(args: argparse.Namespace, stop: InterruptHandler) -> object:
    from pipelines.api import run_api

    return run_api(method=args.method, path=args.path, data=args.data, params=args.param or ())
