"""How a command's failure reads: its message and exit status, the same whichever command reports it (the
dispatcher, or `run`, which also writes its result document)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from pipelines.errors import EXIT_FAILURE, EXIT_USAGE, CommandError


def explain(exc: BaseException, command: str, destination: str | None) -> tuple[str, int] | None:
    """The message (without the `mailjet-elt COMMAND:` prefix) and the exit status of a failure, or None
    for one no command foresaw (a bug: its traceback follows)."""
    if isinstance(exc, CommandError):
        return str(exc), exc.exit_code
    if not isinstance(exc, Exception):
        return None
    unreadable = _settings_file_error(exc)
    if unreadable is not None:
        return unreadable, EXIT_USAGE
    from pipelines.warehouse.failures import destination_failure

    failure = destination_failure(exc, destination)
    if failure is not None:
        return str(failure), failure.exit_code
    if _database_error(exc):
        return (
            f"the database could not be used ({exc}); nothing was reported done, rerun `{command}` to resume",
            EXIT_FAILURE,
        )
    return None


def _database_error(exc: Exception) -> bool:
    """A failure of dlt's database layer (the connection, or a statement), which a command did not turn
    into its own message. Only a command that used dlt can raise one: dlt is not imported to ask."""
    exceptions = sys.modules.get("dlt.destinations.exceptions")
    return exceptions is not None and isinstance(
        exc, (exceptions.DestinationConnectionError, exceptions.DatabaseException)
    )


def _settings_file_error(exc: Exception) -> str | None:
    """The message for a settings file (`.dlt/config.toml`, `.dlt/secrets.toml`) that is not TOML, as dlt
    reports it when it first reads its configuration; None for any other failure."""
    toml = sys.modules.get("dlt.common.configuration.providers.toml")
    if toml is None or not isinstance(exc, toml.TomlProviderReadException):
        return None
    paths = [path for path in exc.full_paths if Path(path).is_file()] or list(exc.full_paths)
    detail = str(exc).split("\n", 1)[-1].strip()
    if "secret" in exc.file_name:  # the parser may quote what it read: of a secrets file, only where
        where = re.search(r"line \d+ col \d+", detail)
        detail = f"at {where[0]}" if where else "a syntax error"
    return (
        f"{' or '.join(paths)} cannot be read as TOML ({detail}); fix the file: each [section] once, "
        "`name = value` lines under it"
    )
