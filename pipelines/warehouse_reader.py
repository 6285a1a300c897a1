"""Reading the warehouse for a command that only reads (`explain`, `report`): the DuckDB file opened
read-only as `mailjet-elt sql` opens it, or a server warehouse through dlt's SQL client. Either way the
command gets the relations present in the datasets it names, the dialect to render its statements in, and
one way to run a statement with parameters."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pipelines import models
from pipelines.interrupts import InterruptHandler

Answer = tuple[list[str], list[tuple[Any, ...]]]  # column names, rows


@dataclass(frozen=True)
class Reader:
    """An open warehouse, for reading."""

    present: set[tuple[str, str]]  # (dataset, relation) of the datasets asked for, in lower case
    dialect: str  # of the statements this warehouse runs
    run: Callable[[str, Sequence[Any]], Answer]  # a statement and its parameters -> columns, rows
    columns: Callable[[str, str], dict[str, str]]  # (dataset, relation) -> its columns: name -> type


@contextmanager
def reading(
    db: str,
    destination: str | None,
    lock_wait: float,
    command: str,
    stop: InterruptHandler,
    datasets: Sequence[str],
) -> Iterator[Reader]:
    """The warehouse `db`/`destination` names, open for reading while the block runs. CommandError (exit 2)
    for a missing DuckDB file, or a file that is not one."""
    if destination not in (None, "duckdb"):
        with _server(db, destination, stop, datasets) as reader:
            yield reader
        return
    from pipelines.sql_access import existing_file, read_only

    path = existing_file(db)
    with read_only(path, lock_wait, False, command) as con, stop.immediate():
        present = {
            (str(schema).lower(), str(name).lower())
            for schema, name in con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
            if str(schema).lower() in {d.lower() for d in datasets}
        }

        def run(sql: str, parameters: Sequence[Any]) -> Answer:
            cursor = con.execute(sql, list(parameters))
            return [str(c[0]) for c in cursor.description or []], cursor.fetchall()

        def columns(dataset: str, name: str) -> dict[str, str]:
            found = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [dataset, name],
            ).fetchall()
            return {str(column).lower(): str(kind).lower() for column, kind in found}

        yield Reader(present, models.READ_DIALECT, run, columns)


@contextmanager
def _server(db: str, destination: str, stop: InterruptHandler, datasets: Sequence[str]) -> Iterator[Reader]:
    from pipelines.warehouse import open_pipeline
    from pipelines.warehouse.catalog import columns, relations

    pipeline = open_pipeline(db, destination)
    with stop.immediate(), pipeline.sql_client() as client:
        present = {(dataset, name) for dataset in datasets for name in relations(client, dataset)}

        def run(sql: str, parameters: Sequence[Any]) -> Answer:
            with client.execute_query(sql, *parameters) as cursor:
                return [str(c[0]) for c in cursor.description or []], list(cursor.fetchall())

        def columns_of(dataset: str, name: str) -> dict[str, str]:
            return {column.lower(): kind for column, kind in columns(client, dataset, name)}

        yield Reader(present, models.dialect_of(client), run, columns_of)


def database_error(exc: Exception) -> bool:
    """Whether `exc` is the engine's refusal of a statement (DuckDB's, or dlt's SQL client's)."""
    import duckdb
    from dlt.destinations.exceptions import DatabaseException

    return isinstance(exc, duckdb.Error | DatabaseException)
