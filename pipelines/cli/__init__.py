"""`mailjet-elt`: argument parsing only; the work happens in the flows it calls. Each command is one
module here (`add` declares its arguments, `handle` calls its flow)."""

from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
from collections.abc import Callable, Sequence
from contextlib import suppress
from types import ModuleType
from typing import NoReturn

from pipelines import logs
from pipelines.cli import (
    api,
    apply,
    check,
    demo,
    extract,
    import_csv,
    load,
    plan,
    sandbox,
    sql,
    webhooks,
)
from pipelines.cli import explain as explain_
from pipelines.cli import report as report_
from pipelines.cli import (
    run as run_,
)
from pipelines.cli import runs as runs_
from pipelines.cli.failures import explain
from pipelines.cli.options import (
    QUIRKS,
    RESOURCES,
    USES_DATABASE,
    after_command,
    database_options,
    logging_options,
)
from pipelines.errors import (
    EXIT_OK,
    EXIT_STDOUT_CLOSED,
    EXIT_USAGE,
    StdoutClosed,
    write_out,
)
from pipelines.interrupts import Interrupted, InterruptHandler, handle_interrupts, interrupted_exit

COMMANDS: tuple[ModuleType, ...] = (
    sandbox,
    check,
    extract,
    import_csv,
    load,
    plan,
    apply,
    run_,
    runs_,
    explain_,
    report_,
    sql,
    api,
    webhooks,
    demo,
)
HANDLERS: dict[str, Callable[[argparse.Namespace, InterruptHandler], object]] = {
    command.NAME: command.handle for command in COMMANDS
}
__all__ = ["HANDLERS", "QUIRKS", "RESOURCES", "build_parser", "main", "run_command"]


class Parser(argparse.ArgumentParser):
    """argparse's parser, which names the nearest choice for a mistyped one (a command, a `--format`...)."""

    def error(self, message: str) -> NoReturn:
        # argparse's words: "invalid choice: 'x' (choose from 'a', 'b')" (newer Pythons leave out quotes).
        mistyped = re.search(r"invalid choice: '?(.*?)'? \(choose from (.*)\)", message)
        if mistyped:
            choices = [c.strip().strip("'") for c in mistyped.group(2).split(",")]
            nearest = difflib.get_close_matches(mistyped.group(1), choices, n=1)
            if nearest:
                message = f"{message}; did you mean `{nearest[0]}`?"
        super().error(message)


class Version(argparse.Action):
    """`--version`: the installed version, looked up only when asked (importlib.metadata is slow to
    import, and every other command would pay for it)."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(
            option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0, help=help
        )

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> NoReturn:
        from importlib.metadata import version

        write_out(f"mailjet-elt {version('mailjet-elt')}\n")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The CLI's options and commands."""
    parser = Parser(
        prog="mailjet-elt",
        description="Mailjet ELT and reverse-ETL connector, with a local Mailjet-compatible sandbox.",
        epilog="`mailjet-elt COMMAND --help` says what a command does and shows examples and its exit codes.",
        parents=[database_options(after_command=False), logging_options(after_command=False)],
    )
    parser.add_argument("--version", action=Version, help="print the installed version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    after = after_command()  # each command takes those that apply to it after its name too
    for command in COMMANDS:
        command.add(commands, after)
    return parser


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Entry point of the `mailjet-elt` console script: runs one command, then leaves at once. Python's
    own shutdown would hand SIGINT and SIGTERM back to their defaults while it tidies up, so a signal in
    that moment would kill the finished process without a word; everything is closed by then."""
    try:
        code = run_command(argv)
    except SystemExit as exc:  # argparse's --help and usage errors
        code = exc.code if isinstance(exc.code, int) else EXIT_USAGE if exc.code else EXIT_OK
    except StdoutClosed:
        # Whoever read stdout stopped (`mailjet-elt sql ... | head`): end quietly, as Unix tools do.
        with suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_STDOUT_CLOSED
    with suppress(OSError):  # stdout may be a closed pipe
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def run_command(argv: Sequence[str] | None = None) -> int:
    """Run one command: print its result on stdout (text, or JSON with --format json) and turn a
    failure into its message and exit code (128 + the signal's number when stopped by one)."""
    command = "mailjet-elt"
    with handle_interrupts(command, restore=False) as stop:
        try:
            parser = build_parser()
            args = parser.parse_args(argv)
            args.verbose += getattr(args, "verbose_after", 0)
            command = stop.command = args.command or command
            # dlt's anonymous usage telemetry calls out to the internet; this tool sends nothing. dlt
            # starts it when its configuration is first read: it is switched off before, in dlt's env
            # provider.
            os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
            logs.configure(args.verbose, args.log_format)
            return run(parser, args, stop)
        except Interrupted as exc:
            if command == "sandbox":
                return EXIT_OK  # Ctrl-C is how a foreground sandbox is stopped
            return interrupted_exit(command, exc.signum)


def run(parser: argparse.ArgumentParser, args: argparse.Namespace, stop: InterruptHandler) -> int:
    """Dispatch to the command's handler; print its result; the exit code."""
    try:
        if getattr(args, USES_DATABASE, False):
            from pipelines.warehouse.paths import database_file

            args.db = database_file(args.db, args.destination)
        outcome = HANDLERS[args.command](args, stop) if args.command in HANDLERS else None
    except Exception as exc:
        explained = explain(exc, args.command, getattr(args, "destination", None))
        if explained is None:
            raise
        message, code = explained
        logs.console().error(f"mailjet-elt {args.command}: {message}")
        return code
    if outcome is None:
        parser.print_help()
        return EXIT_USAGE
    if isinstance(outcome, int):
        return outcome
    if stop.received:  # came while the last writes ran: they finished, so the run is complete
        logs.console().warning(
            f"mailjet-elt {args.command}: finished before it could stop; nothing to resume"
        )
    from pipelines.report import render

    write_out(render(outcome, getattr(args, "format", "text")) + "\n")
    return int(getattr(outcome, "exit_code", EXIT_OK))
