"""`mailjet-elt runs`: the latest runs of the commands that write the warehouse, from
`mailjet_sync.command_runs` (pipelines/warehouse/command_log.py): when, what, how it ended, how long it
took, and its figures or its error. Reads only: the DuckDB file read-only, as `mailjet-elt sql` does."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pipelines import models
from pipelines.interrupts import InterruptHandler
from pipelines.settings import DEFAULT_LOCK_WAIT_SECONDS
from pipelines.warehouse.names import SYNC_DATASET

STATEMENTS = models.MODELS_FOLDER / "command_runs"
COLUMNS = ("started_at", "command", "status", "seconds", "detail")
DETAIL_CHARS = 80  # of a detail, in the table


@dataclass(frozen=True)
class CommandRun:
    """One run, as `runs` lists it."""

    started_at: datetime
    command: str
    status: str
    seconds: float | None  # None while running, or when it never ended
    detail: str | None  # its figures, or its error


@dataclass(frozen=True)
class RunsListing:
    """The runs found, newest first."""

    runs: list[CommandRun]


def recent_runs(
    *,
    db: str,
    destination: str | None = None,
    limit: int = 20,
    lock_wait: float = DEFAULT_LOCK_WAIT_SECONDS,
    stop: InterruptHandler | None = None,
) -> RunsListing:
    """The `limit` latest command runs. CommandError (exit 2) for a missing DuckDB file, or a file that
    is not one."""
    stop = stop or InterruptHandler("runs")
    if destination not in (None, "duckdb"):
        return RunsListing([_run(r) for r in _from_server(db, destination, limit, stop)])
    from pipelines.sql_access import existing_file, read_only

    path = existing_file(db)
    kept = models.render("command_runs_kept", models.READ_DIALECT, folder=models.MODELS_FOLDER / "reader")
    recent = models.render("recent", models.READ_DIALECT, folder=STATEMENTS)
    with read_only(path, lock_wait, False, "runs") as con, stop.immediate():
        [(found,)] = con.execute(kept).fetchall()
        rows = con.execute(recent, [limit]).fetchall() if found else []
    return RunsListing([_run(r) for r in rows])


def _from_server(db: str, destination: str, limit: int, stop: InterruptHandler) -> list[Any]:
    from pipelines.warehouse import open_pipeline
    from pipelines.warehouse.catalog import relations

    pipeline = open_pipeline(db, destination)
    with stop.immediate(), pipeline.sql_client() as client:
        if "command_runs" not in relations(client, SYNC_DATASET):
            return []
        recent = models.render("recent", models.dialect_of(client), folder=STATEMENTS)
        return list(client.execute_sql(recent, limit) or [])


def _run(row: Any) -> CommandRun:
    started, finished, command, status, detail = row
    seconds = None if finished is None else round((finished - started).total_seconds(), 1)
    return CommandRun(
        _utc(started), str(command), str(status), seconds, None if detail is None else str(detail)
    )


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def render_runs(listing: RunsListing, fmt: str) -> str:
    """The runs as a table, or as one JSON document (`{"result": "runs", "at", "exit_code", "runs"}`)."""
    if fmt == "json":
        from pipelines.logs import now_text

        runs = [
            {
                "started_at": r.started_at.isoformat(timespec="seconds"),
                "command": r.command,
                "status": r.status,
                "seconds": r.seconds,
                "detail": r.detail,
            }
            for r in listing.runs
        ]
        return json.dumps(
            {"result": "runs", "at": now_text(), "exit_code": 0, "runs": runs}, ensure_ascii=False
        )
    if not listing.runs:
        return "No run recorded yet: the commands that write the warehouse record each run here."
    from pipelines.sql import table

    shown = [
        (
            r.started_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            r.command,
            r.status,
            "" if r.seconds is None else f"{r.seconds:.1f}",
            _shortened(r.detail),
        )
        for r in listing.runs
    ]
    return table(list(COLUMNS), shown) + "\nThe whole text of each: --format json"


def _shortened(detail: str | None) -> str:
    """A long detail (an error's whole message) cut for the table."""
    text = detail or ""
    return text if len(text) <= DETAIL_CHARS else text[: DETAIL_CHARS - 1] + "…"
