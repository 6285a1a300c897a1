"""`mailjet-elt webhooks serve|register`: Mailjet's Event API into `mailjet.events`."""

from __future__ import annotations

import argparse

from pipelines.cli.options import Commands, add_format
from pipelines.interrupts import InterruptHandler

NAME = "webhooks"


def add(commands: Commands, after: list[argparse.ArgumentParser]) -> None:
    """The command's arguments."""
    webhooks = commands.add_parser(
        "webhooks", parents=after, help="receive Mailjet's real-time events into mailjet.events"
    )
    hooks = webhooks.add_subparsers(dest="webhooks_command", metavar="{serve,register}")
    serve = hooks.add_parser(
        "serve",
        parents=after,
        help="accept Mailjet's event deliveries at /events and load them into mailjet_api.events",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8766, help="port to listen on (default 8766; 0 = any)")
    register = hooks.add_parser(
        "register",
        parents=after,
        help="point Mailjet's event callbacks at the receiver (create or update; safe to repeat)",
    )
    register.add_argument("url", help="the receiver's public URL, e.g. https://hooks.example.com/events")
    register.add_argument(
        "--events",
        default=None,
        metavar="a,b",
        help="event types (default all: sent,open,click,bounce,spam,blocked,unsub)",
    )
    register.add_argument(
        "--version", type=int, default=2, help="Event API version: 2 (arrays, default) or 1"
    )
    add_format(register)


def handle(args: argparse.Namespace, stop: InterruptHandler) -> object:
    if args.webhooks_command == "register":
        from pipelines.webhooks import register

        events = [e.strip().lower() for e in args.events.split(",") if e.strip()] if args.events else None
        return register(args.url, events, args.version)
    if args.webhooks_command != "serve":
        return None
    from pipelines.webhooks import serve

    serve(db=args.db, destination=args.destination, host=args.host, port=args.port, lock_wait=args.lock_wait)
    return 0  # what it listened on and loaded is on the console (stderr), as it happened
