"""Arrow tables in and out of any dlt SQL client: DuckDB hands them over where they are, other engines
row by row in batches."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from dlt.destinations.sql_client import SqlClientBase


def insert_arrow(client: SqlClientBase[Any], name: str, rows: pa.Table) -> None:
    """Insert `rows` into the table `name` (same columns, same order)."""
    native = client.native_connection
    if hasattr(native, "register"):  # DuckDB reads the Arrow table where it is
        native.register("_incoming", rows)
        try:
            client.execute_sql(f"insert into {name} select * from _incoming")
        finally:
            native.unregister("_incoming")
        return
    values = rows.to_pylist()
    marks = "(" + ", ".join(["%s"] * rows.num_columns) + ")"
    for start in range(0, len(values), 1000):
        chunk = values[start : start + 1000]
        args = [v for row in chunk for v in row.values()]
        client.execute_sql(f"insert into {name} values " + ", ".join([marks] * len(chunk)), *args)


def fetch_arrow(client: SqlClientBase[Any], query: str) -> pa.Table:
    """The rows of `query` as an Arrow table."""
    native = client.native_connection
    if hasattr(native, "to_arrow_table"):  # DuckDB hands its result over as Arrow
        return native.sql(query).to_arrow_table()
    with client.execute_query(query) as cursor:
        names = [str(c[0]) for c in cursor.description]
        rows = cursor.fetchall()
        # By column, so that a result without rows still has its columns.
        return pa.Table.from_pydict({name: [row[i] for row in rows] for i, name in enumerate(names)})
