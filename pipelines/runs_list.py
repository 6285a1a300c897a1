"""`mailjet-elt runs`: the latest runs of the commands that write the warehouse, from
`mailjet_sync.command_runs` (pipelines/warehouse/command_log.py): when, what, how it ended, how long it
took, and its figures or its error. Reads only: the DuckDB file read-only, as `mailjet-elt sql` does."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pipelines import models
from pipelines.errors import EXIT_USAGE, CommandError
from pipelines.interrupts import InterruptHandler
from pipelines.settings import DEFAULT_LOCK_WAIT_SECONDS
from pipelines.warehouse.paths import duckdb_path

COLUMNS = ("started_at", "command", "status", "seconds", "detail")
DETAIL_CHARS = 80  # of a detail, in the table


@dataclass(frozen=True)
class RunsListing:
    """The runs found, newest first (one tuple of COLUMNS each)."""

    rows: list[tuple[Any, ...]]


def recent_runs(
    *,
    db: str,
    destination: str | None = None,
    limit: int = 20,
    lock_wait: float = DEFAULT_LOCK_WAIT_SECONDS,
    stop: InterruptHandler | None = None,
) -> RunsListing:
    """The `limit` latest command runs. CommandError (exit 2) for a missing DuckDB file."""
    stop = stop or InterruptHandler("runs")
    kept, recent = _statements(models.READ_DIALECT)
    if destination not in (None, "duckdb"):
        return _from_server(db, destination, limit, stop)
    from pipelines.sql_access import read_only

    path = duckdb_path(db)
    if not path.is_file():
        raise CommandError(
            f"no database at {path}: run `mailjet-elt extract` first, or name the file with --db PATH",
            EXIT_USAGE,
        )
    with read_only(path, lock_wait, False) as con, stop.immediate():
        [(found,)] = con.execute(kept).fetchall()
        rows = con.execute(recent, [limit]).fetchall() if found else []
    return RunsListing([tuple(r) for r in rows])


def _from_server(db: str, destination: str, limit: int, stop: InterruptHandler) -> RunsListing:
    from pipelines.warehouse import open_pipeline

    pipeline = open_pipeline(db, destination)
    with stop.immediate(), pipeline.sql_client() as client:
        kept, recent = _statements(models.dialect_of(client))
        [(found,)] = client.execute_sql(kept) or [(0,)]
        rows = (client.execute_sql(recent, limit) or []) if found else []
    return RunsListing([tuple(r) for r in rows or []])


def _statements(dialect: str) -> tuple[str, str]:
    folder = models.MODELS_FOLDER / "reader"
    return models.render("command_runs_kept", dialect, folder=folder), models.render(
        "recent_runs", dialect, folder=folder
    )


def render_runs(listing: RunsListing, fmt: str) -> str:
    """The runs as a table, or as one JSON document (`{"result": "runs", "runs": [...]}`)."""
    if fmt == "json":
        runs = [dict(zip(COLUMNS, row, strict=True)) for row in listing.rows]
        return json.dumps({"result": "runs", "runs": runs}, ensure_ascii=False, default=str)
    if not listing.rows:
        return "No run recorded yet: the commands that write the warehouse record each run here."
    from pipelines.sql import table

    shown = [(*row[:-1], _shortened(row[-1])) for row in listing.rows]
    return table(list(COLUMNS), shown) + "\nThe whole text of each: --format json"


def _shortened(detail: Any) -> Any:
    """A long detail (an error's whole message) cut for the table."""
    text = "" if detail is None else str(detail)
    return text if len(text) <= DETAIL_CHARS else text[: DETAIL_CHARS - 1] + "…"
