"""`mailjet-elt demo`: a seeded sandbox in-process, toured."""

from __future__ import annotations

import argparse

from pipelines.cli.options import Commands, count
from pipelines.interrupts import InterruptHandler

NAME = "demo"


def add(commands: Commands, after: list[argparse.ArgumentParser]) -> None:
    """The command's arguments."""
    demo = commands.add_parser("demo", parents=after, help="start a seeded sandbox in-process and tour it")
    demo.add_argument("--contacts", type=count, default=2000, help="contacts to seed")


def handle(args: argparse.Namespace, stop: InterruptHandler) -> int:
    from pipelines.demo import run_demo

    return run_demo(contacts=args.contacts, destination=args.destination)
