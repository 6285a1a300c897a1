"""The engine's memory while the command's own Python holds a large result: DuckDB runs in the command's
process, so its buffers (temporary tables, cached blocks of the database file) add to the command's peak
memory; a server engine keeps its buffers in its own process."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import duckdb
from dlt.destinations.sql_client import SqlClientBase

# What DuckDB may keep in memory while the data tests run on an audience already fetched: the rest of its
# buffers go to its temporary folder (beside the database file), to be read again by the statements that
# need them (about a second for a million rows, against some 250 MB less at the plan's peak).
SPILLED_LIMIT = "32MB"


@contextlib.contextmanager
def buffers_spilled(client: SqlClientBase[Any]) -> Iterator[None]:
    """While the block runs, an in-process engine (DuckDB) keeps at most SPILLED_LIMIT of its buffers in
    memory, when it can free that much, then its memory limit as it was before. Nothing changes for a server
    engine."""
    native = client.native_connection
    if not hasattr(native, "to_arrow_table"):  # DuckDB's connection (as pipelines.warehouse.arrow tells it)
        yield
        return
    before = native.execute("select current_setting('memory_limit')").fetchone()[0]
    try:
        native.execute("set memory_limit = ?", [SPILLED_LIMIT])
    except duckdb.Error:  # it could not free enough (buffers with nowhere to go): they stay as they are
        yield
        return
    try:
        yield
    finally:
        native.execute("set memory_limit = ?", [before])
