"""`mailjet-elt webhooks serve|register`: Mailjet's Event API into `mailjet.events`."""

from __future__ import annotations

import argparse

from pipelines.cli.helptext import DONE, FAILED, USAGE, add_command
from pipelines.cli.options import After, Commands, add_format
from pipelines.interrupts import InterruptHandler

NAME = "webhooks"


def add(commands: Commands, after: After) -> None:
    """The command's arguments."""
    webhooks = add_command(
        commands,
        NAME,
        parents=[after.logging],
        summary="receive Mailjet's real-time events into mailjet.events",
        description="Mailjet's real-time events (its Event API) into mailjet.events: `serve` runs the "
        "receiver, `register` points the account's event callbacks at it. See each one's --help.",
        examples=[
            "webhooks serve --port 8766",
            "webhooks register https://hooks.example.com/events",
        ],
        exits=[DONE, FAILED, USAGE],
    )
    hooks = webhooks.add_subparsers(dest="webhooks_command", metavar="{serve,register}")
    serve = add_command(
        hooks,
        "serve",
        parents=after,
        summary="accept Mailjet's event deliveries at /events and load them into mailjet_api.events",
        description="Accepts Mailjet's event deliveries at /events, each kept on disk before it is "
        "answered, and loads them into mailjet_api.events (seen as mailjet.events) every few seconds. "
        "Ctrl-C or SIGTERM stops it once what was received is loaded.",
        examples=["webhooks serve", "webhooks serve --host 0.0.0.0 --port 8766"],
        exits=[
            ("0", "stopped by Ctrl-C or SIGTERM, every event received loaded"),
            FAILED,
            ("2", "bad usage or settings, or the port is taken"),
        ],
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8766, help="port to listen on (default 8766; 0 = any)")
    register = add_command(
        hooks,
        "register",
        parents=[after.logging],
        summary="point Mailjet's event callbacks at the receiver (create or update; safe to repeat)",
        description="Creates or updates the account's event callbacks, so that Mailjet posts its events "
        "to URL (where `webhooks serve` listens, behind your HTTPS proxy). Safe to repeat.",
        examples=[
            "webhooks register https://hooks.example.com/events",
            "webhooks register https://hooks.example.com/events --events open,click,unsub",
        ],
        exits=[
            DONE,
            ("1", "Mailjet refused the change, or cannot be reached"),
            ("2", "a bad URL or event type, or bad or missing credentials"),
        ],
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
