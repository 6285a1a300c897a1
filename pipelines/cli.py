"""`mailjet-elt`: argument parsing only; the work happens in the flows it calls."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Any, NoReturn

from pipelines import logs
from pipelines.errors import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_STDOUT_CLOSED,
    EXIT_USAGE,
    CommandError,
    StdoutClosed,
    write_out,
)
from pipelines.interrupts import Interrupted, InterruptHandler, handle_interrupts, interrupted_exit
from pipelines.settings import DEFAULT_DB, DEFAULT_LOCK_WAIT_SECONDS

FORMATS_SQL = ("table", "csv", "json")
# What `extract` reads (pipelines/extract.py ALL_RESOURCES) and the sandbox's quirks (sandbox/quirks.py
# KNOWN), named here so that `--help` stays light to import.
RESOURCES = (
    "contacts",
    "contact_lists",
    "list_recipients",
    "contact_properties",
    "contact_property_definitions",
    "campaign_drafts",
    "campaign_stats",
    "campaigns",
    "messages",
    "opens",
    "clicks",
    "bounces",
    "sms_messages",
)
QUIRKS = (
    "fromts-exclusive",
    "statcounters-no-countonly",
    "sort-unknown-400",
    "campaign-status-string",
    "sort-unknown-ignored",
    "event-filter-send-time",
    "click-id-minus-one",
    "bounce-id-is-message-id",
    "sms-uuid-ids",
    "sms-page-cap-21",
    "draft-axtesting-object",
)


def count(text: str) -> int:
    """A whole number >= 0, for argparse."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative; give 0 or more")
    return value


def seconds(text: str) -> float:
    """A finite number of seconds >= 0, for argparse."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of seconds, 0 or more")
    return value


def add_format(command: argparse.ArgumentParser) -> None:
    """`--format text|json`: the result on stdout for people or as one JSON document."""
    command.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="print the result as text (default) or as one JSON document on stdout",
    )


def global_options(after_command: bool) -> argparse.ArgumentParser:
    """The options every command takes, before its name (`mailjet-elt --db X extract`) or after it
    (`mailjet-elt extract --db X`). After it they have no default, so that those given before stay."""
    options = argparse.ArgumentParser(add_help=False)

    def default(value: object) -> object:
        return argparse.SUPPRESS if after_command else value

    options.add_argument(
        "--db",
        default=default(DEFAULT_DB),
        metavar="PATH",
        help=f"DuckDB database file (default ./{DEFAULT_DB}, in the current folder)",
    )
    options.add_argument(
        "--destination",
        default=default(None),
        metavar="NAME",
        help="another dlt destination (e.g. postgres), configured the dlt way; default duckdb at --db",
    )
    options.add_argument(
        "--lock-wait",
        type=seconds,
        default=default(DEFAULT_LOCK_WAIT_SECONDS),
        metavar="SECONDS",
        help="how long a command waits for another one using the same database "
        f"(default {DEFAULT_LOCK_WAIT_SECONDS:g})",
    )
    options.add_argument(
        "--log-format", choices=("text", "json"), default=default("text"), help="log line format"
    )
    options.add_argument(
        "-v",
        "--verbose",
        action="count",
        # After the command, counted apart and added to those before (`-v extract -v` is -vv).
        dest="verbose_after" if after_command else "verbose",
        default=default(0),
        help="more logging (-vv for debug)",
    )
    return options


def build_parser() -> argparse.ArgumentParser:
    """The CLI's options and commands."""
    parser = argparse.ArgumentParser(
        prog="mailjet-elt",
        description="Mailjet ELT and reverse-ETL connector, with a local Mailjet-compatible sandbox.",
        parents=[global_options(after_command=False)],
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    after = [global_options(after_command=True)]  # every command takes them after its name too

    sandbox = commands.add_parser(
        "sandbox", parents=after, help="run the local Mailjet-compatible sandbox in the foreground"
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
        help="other readings of the API's ambiguities, comma-separated, or all (see the README): "
        + ", ".join(QUIRKS),
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

    check = commands.add_parser(
        "check", parents=after, help="verify the [mailjet] credentials and that the API answers"
    )
    add_format(check)

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

    import_csv = commands.add_parser(
        "import-csv",
        parents=after,
        help="import contact CSV files exported from Mailjet -> mailjet_csv, seen through the same "
        "mailjet views",
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

    load = commands.add_parser(
        "load",
        parents=after,
        help="load your own CSV, Parquet or JSONL file (CRM profiles, consent events) into crm.TABLE",
    )
    load.add_argument("file", metavar="FILE", help="a .csv (with a header line), .parquet or .jsonl file")
    load.add_argument(
        "--table",
        required=True,
        metavar="NAME",
        help="the table in dataset crm, e.g. profiles, consent_events",
    )
    load.add_argument("--append", action="store_true", help="add the rows (default: replace the table)")
    add_format(load)

    plan = commands.add_parser(
        "plan",
        parents=after,
        help="build the audiences, test them, diff them against their lists; sends nothing",
    )
    plan.add_argument("--audience", default=None, metavar="NAME", help="plan only this audience")
    plan.add_argument(
        "--audiences",
        default=None,
        metavar="PATH",
        help="the audiences file (default ./audiences.sql when present, else the shipped one)",
    )
    add_format(plan)

    apply = commands.add_parser(
        "apply",
        parents=after,
        help="send the latest plan of each audience to Mailjet (bulk jobs), record every outcome",
    )
    apply.add_argument("--audience", default=None, metavar="NAME", help="apply only this audience's plan")
    apply.add_argument(
        "--yes", action="store_true", help="do not ask for confirmation (needed without a terminal)"
    )
    apply.add_argument("--force", action="store_true", help="send a plan a guard stopped (never a stale one)")
    add_format(apply)

    run = commands.add_parser("run", parents=after, help="the scheduled job: extract, then plan, then apply")
    run.add_argument(
        "--audiences",
        default=None,
        metavar="PATH",
        help="the audiences file (default ./audiences.sql when present, else the shipped one)",
    )
    run.add_argument(
        "--yes", action="store_true", help="do not ask before sending (needed without a terminal)"
    )
    add_format(run)

    sql = commands.add_parser(
        "sql",
        parents=after,
        help="run SQL against the database and print the answer (no query: a prompt, or stdin's SQL)",
    )
    sql.add_argument("query", nargs="?", default=None, help='e.g. "select count(*) from mailjet.contacts"')
    sql.add_argument(
        "--format", choices=FORMATS_SQL, default="table", help="an aligned table (default), CSV or JSON"
    )

    api = commands.add_parser(
        "api", parents=after, help="make one authorized API call and print the JSON answer"
    )
    api.add_argument("method", choices=("GET", "POST", "PUT", "DELETE", "get", "post", "put", "delete"))
    api.add_argument("path", help="e.g. contactslist, contact/jane@example.com or /v3.1/send")
    api.add_argument("--data", default=None, help="JSON request body")
    api.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="query parameter")

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

    demo = commands.add_parser("demo", parents=after, help="start a seeded sandbox in-process and tour it")
    demo.add_argument("--contacts", type=count, default=2000, help="contacts to seed")
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
    from dlt.destinations.exceptions import DatabaseException, DestinationConnectionError

    from pipelines.report import render

    try:
        outcome = HANDLERS[args.command](args, stop) if args.command in HANDLERS else None
    except CommandError as exc:
        logs.console().error(f"mailjet-elt {args.command}: {exc}")
        return exc.exit_code
    except (DestinationConnectionError, DatabaseException) as exc:
        logs.console().error(
            f"mailjet-elt {args.command}: the database could not be used ({exc}); nothing was reported "
            f"done, rerun `{args.command}` to resume"
        )
        return EXIT_FAILURE
    if outcome is None:
        parser.print_help()
        return EXIT_USAGE
    if isinstance(outcome, int):
        return outcome
    if stop.received:  # came while the last writes ran: they finished, so the run is complete
        logs.console().warning(
            f"mailjet-elt {args.command}: finished before it could stop; nothing to resume"
        )
    write_out(render(outcome, getattr(args, "format", "text")) + "\n")
    return int(getattr(outcome, "exit_code", EXIT_OK))


def _sandbox(args: argparse.Namespace, stop: InterruptHandler) -> int:
    from pipelines.sandbox import run_sandbox

    return run_sandbox(args)


def _check(args: argparse.Namespace, stop: InterruptHandler) -> object:
    from pipelines.api import run_check

    return run_check()


def _extract(args: argparse.Namespace, stop: InterruptHandler) -> object:
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


def _import_csv(args: argparse.Namespace, stop: InterruptHandler) -> object:
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


def _load(args: argparse.Namespace, stop: InterruptHandler) -> object:
    from pipelines.load import load

    return load(
        db=args.db,
        destination=args.destination,
        file=args.file,
        table=args.table,
        append=args.append,
        interrupts=stop,
        lock_wait=args.lock_wait,
    )


def _plan(args: argparse.Namespace, stop: InterruptHandler) -> object:
    from pipelines.sync.plan import plan

    return plan(
        db=args.db,
        destination=args.destination,
        audience=args.audience,
        audiences=args.audiences,
        interrupts=stop,
        lock_wait=args.lock_wait,
    )


def _apply(args: argparse.Namespace, stop: InterruptHandler) -> object:
    from pipelines.sync.apply import apply

    return apply(
        db=args.db,
        destination=args.destination,
        audience=args.audience,
        yes=args.yes,
        force=args.force,
        interrupts=stop,
        lock_wait=args.lock_wait,
    )


def _run(args: argparse.Namespace, stop: InterruptHandler) -> object:
    from pipelines.progress import ExtractProgress
    from pipelines.sync.run import run

    return run(
        db=args.db,
        destination=args.destination,
        audiences=args.audiences,
        yes=args.yes,
        progress=ExtractProgress(),
        interrupts=stop,
        lock_wait=args.lock_wait,
    )


def _sql(args: argparse.Namespace, stop: InterruptHandler) -> int:
    from pipelines.sql import run_sql

    return run_sql(
        db=args.db,
        destination=args.destination,
        query=args.query,
        output=args.format,
        lock_wait=args.lock_wait,
        stop=stop,
    )


def _api(args: argparse.Namespace, stop: InterruptHandler) -> object:
    from pipelines.api import run_api

    return run_api(method=args.method, path=args.path, data=args.data, params=args.param or ())


def _webhooks(args: argparse.Namespace, stop: InterruptHandler) -> object:
    if args.webhooks_command == "register":
        from pipelines.webhook_register import register

        events = [e.strip().lower() for e in args.events.split(",") if e.strip()] if args.events else None
        return register(args.url, events, args.version)
    if args.webhooks_command != "serve":
        return None
    from pipelines.webhooks import serve

    def ready(receiver: Any) -> None:
        print(
            f"mailjet-elt webhooks: listening on {receiver.url}; spooling to {receiver.spool.folder}; "
            f"loading into --db {args.db} every {receiver.config.flush_seconds:g} s. Ctrl-C stops (what "
            "was received is loaded first)",
            flush=True,
        )

    stats = serve(
        db=args.db,
        destination=args.destination,
        host=args.host,
        port=args.port,
        lock_wait=args.lock_wait,
        ready=ready,
    )
    print(f"mailjet-elt webhooks: stopped; {stats.loaded:,} events loaded in {stats.batches:,} batches")
    return 0


def _demo(args: argparse.Namespace, stop: InterruptHandler) -> int:
    from pipelines.demo import run_demo

    return run_demo(contacts=args.contacts)


HANDLERS: dict[str, Callable[[argparse.Namespace, InterruptHandler], object]] = {
    "sandbox": _sandbox,
    "check": _check,
    "extract": _extract,
    "import-csv": _import_csv,
    "load": _load,
    "plan": _plan,
    "apply": _apply,
    "run": _run,
    "api": _api,
    "sql": _sql,
    "demo": _demo,
    "webhooks": _webhooks,
}


if __name__ == "__main__":
    main()
