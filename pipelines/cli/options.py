"""What the commands share: argument types, the database and logging options, `--format`, and the names
`--help` lists (kept here so that `--help` stays light to import)."""

from __future__ import annotations

import argparse
import math
from typing import NamedTuple, TypeAlias

from pipelines.settings import DB_SETTING_WHERE, DEFAULT_DB, DEFAULT_LOCK_WAIT_SECONDS

# What `add_subparsers` returns: each command module adds its parser to it.
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

FORMATS_SQL = ("table", "csv", "json")
USES_DATABASE = "uses_database"  # set by the commands that take the database options
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
    "job-status-in-progress",
    "job-count-processed",
    "job-report-bare-list",
    "job-report-lowercase-keys",
    "job-report-empty",
    "errorfile-relative",
    "job-error-partial",
    "bulk-invalid-email-400",
    "listing-lag",
    "unsub-nonmember-noop",
    "remove-keeps-unsub",
    "webhook-retry-10x10min",
    "property-names-lowercased",
    "strict-property-types",
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


def positive_int(text: str) -> int:
    """A whole number >= 1, for argparse."""
    value = count(text)
    if value < 1:
        raise argparse.ArgumentTypeError("give 1 or more")
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


class After(NamedTuple):
    """The shared options as a command takes them after its name: `database` for the commands that read
    or write the database, `logging` for every command. A database command's parents are both (the tuple
    itself); any other command's, `logging` alone."""

    database: argparse.ArgumentParser
    logging: argparse.ArgumentParser


def after_command() -> After:
    """The shared options as commands take them after their name."""
    return After(database_options(after_command=True), logging_options(after_command=True))


def database_options(after_command: bool) -> argparse.ArgumentParser:
    """`--db`, `--destination`, `--lock-wait`: before a command's name (`mailjet-elt --db X extract`) or
    after it (`mailjet-elt extract --db X`). After it they have no default, so that those given before
    stay; and they mark the command as one that uses the database (USES_DATABASE), whose `--db` falls back
    on the `db` setting. `--db` has no default here: see pipelines.warehouse.paths.database_file."""
    options = argparse.ArgumentParser(add_help=False)
    title = "database options" if after_command else "database options (the commands that read or write it)"
    group = options.add_argument_group(title)
    group.add_argument(
        "--db",
        default=argparse.SUPPRESS if after_command else None,
        metavar="PATH",
        help=f"DuckDB database file (default: the db setting, {DB_SETTING_WHERE}; else ./{DEFAULT_DB})",
    )
    group.add_argument(
        "--destination",
        default=argparse.SUPPRESS if after_command else None,
        metavar="NAME",
        help="another dlt destination (e.g. postgres), configured the dlt way; default duckdb at --db",
    )
    group.add_argument(
        "--lock-wait",
        type=seconds,
        default=argparse.SUPPRESS if after_command else DEFAULT_LOCK_WAIT_SECONDS,
        metavar="SECONDS",
        help="how long a command waits for another one using the same database "
        f"(default {DEFAULT_LOCK_WAIT_SECONDS:g})",
    )
    if after_command:
        options.set_defaults(**{USES_DATABASE: True})
    return options


def logging_options(after_command: bool) -> argparse.ArgumentParser:
    """`--log-format`, `-v`: every command takes them, before its name or after it (with no default
    there, so that those given before stay)."""
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("logging options")
    group.add_argument(
        "--log-format",
        choices=("text", "json"),
        default=argparse.SUPPRESS if after_command else "text",
        help="log line format",
    )
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        # After the command, counted apart and added to those before (`-v extract -v` is -vv).
        dest="verbose_after" if after_command else "verbose",
        default=argparse.SUPPRESS if after_command else 0,
        help="more logging (-vv for debug)",
    )
    return options
