"""`mailjet-elt api`: one authorized API call, its JSON answer printed."""

from __future__ import annotations

import argparse

from pipelines.cli.options import Commands
from pipelines.interrupts import InterruptHandler

NAME = "api"


def add(commands: Commands, after: list[argparse.ArgumentParser]) -> None:
    """The command's arguments."""
    api = commands.add_parser(
        "api", parents=after, help="make one authorized API call and print the JSON answer"
    )
    api.add_argument("method", choices=("GET", "POST", "PUT", "DELETE", "get", "post", "put", "delete"))
    api.add_argument("path", help="e.g. contactslist, contact/jane@example.com or /v3.1/send")
    api.add_argument("--data", default=None, help="JSON request body")
    api.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="query parameter")


def handle(args: argparse.Namespace, stop: InterruptHandler) -> object:
    from pipelines.api import run_api

    return run_api(method=args.method, path=args.path, data=args.data, params=args.param or ())
