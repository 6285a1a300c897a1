"""`mailjet_sync.command_runs`: one row per run of a command that writes the warehouse (`extract`,
`import-csv`, `load`, `plan`, `apply`; each step of `run` is its own), so that `mailjet-elt runs` can say
what ran, when, for how long, and how it ended. A row is written `running` once the command holds the
writer lock, and closed as it ends: `ok` (with its figures), `failed` (with its message) or `stopped` (by a
signal). A row still `running` when the next command takes the lock belongs to a process that died (the
lock admits one writer at a time): that command marks it `interrupted`.

Only the command's own messages are kept as errors; any other failure is kept by its kind alone, so that
nothing a driver says (a connection string, say) reaches the table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from dlt.destinations.sql_client import SqlClientBase

from pipelines import models
from pipelines.errors import CommandError

STATEMENTS = models.MODELS_FOLDER / "command_runs"
RECORDED = ("extract", "import-csv", "load", "plan", "apply")
Ended = Literal["ok", "failed", "stopped"]
ERROR_CHARS = 2000


def begin(client: SqlClientBase[Any], command: str) -> int:
    """Record `command` as running (the writer lock held), after marking `interrupted` the rows of
    commands that died running; its run ID."""
    for name in ("dataset", "table", "interrupted"):
        _run(client, name)
    now = datetime.now(UTC)
    rows = client.execute_sql(_sql(client, "latest"))
    latest = int(rows[0][0]) if rows and rows[0][0] is not None else 0
    run_id = max(int(now.timestamp() * 1_000_000), latest + 1)
    _run(client, "start", run_id, command, now)
    return run_id


def end(
    client: SqlClientBase[Any], run_id: int, status: Ended, summary: str | None, error: str | None
) -> None:
    """Close the row of the run."""
    text = None if error is None else error[:ERROR_CHARS]
    _run(client, "close", datetime.now(UTC), status, summary, text, run_id)


def ending(exc: BaseException) -> tuple[Ended, str]:
    """How a run that raised `exc` ended, and what the table may keep of it."""
    if isinstance(exc, KeyboardInterrupt):  # Ctrl-C or SIGTERM (pipelines.interrupts.Interrupted)
        return "stopped", "stopped by a signal"
    if isinstance(exc, CommandError):
        return "failed", str(exc)
    return "failed", type(exc).__name__


def _sql(client: SqlClientBase[Any], name: str) -> str:
    return models.render(name, models.dialect_of(client), folder=STATEMENTS)


def _run(client: SqlClientBase[Any], name: str, *args: Any) -> None:
    client.execute_sql(_sql(client, name), *args)
