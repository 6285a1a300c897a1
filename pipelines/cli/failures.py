"""How a command's failure reads: its message and exit status, the same whichever command reports it (the
dispatcher, or `run`, which also writes its result document)."""

from __future__ import annotations

import sys

from pipelines.errors import EXIT_FAILURE, CommandError


def explain(exc: BaseException, command: str, destination: str | None) -> tuple[str, int] | None:
    """The message (without the `mailjet-elt COMMAND:` prefix) and the exit status of a failure, or None
    for one no command foresaw (a bug: its traceback follows)."""
    if isinstance(exc, CommandError):
        return str(exc), exc.exit_code
    if not isinstance(exc, Exception):
        return None
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
