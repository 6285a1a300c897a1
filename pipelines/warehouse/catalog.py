"""What the database holds, read through dlt's SQL client: the tables and views of a dataset, and their
columns. Where the catalog is and how names are written there is dlt's knowledge of each engine (the
same components its `get_storage_tables` reads): BigQuery's INFORMATION_SCHEMA of each dataset,
Snowflake's upper-case names, a catalog per database on Postgres. Tables come back lowercased, as the
project names them; columns as the catalog states them (a view's `"EMail"` keeps its case)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # typing only: importing this module imports no dlt
    from dlt.destinations.sql_client import SqlClientBase

Columns = list[tuple[str, str]]  # (column as stated, type as the catalog names it, lowercased), in order


def _query(
    client: SqlClientBase[Any], view: str, selected: str, dataset: str, tables: Sequence[str]
) -> list[Any]:
    """Rows of `selected` from the catalog's `view` (TABLES, COLUMNS) for `dataset`, its `tables` only
    when named."""
    with client.with_alternative_dataset_name(dataset):
        catalog, schema, folded = client._get_information_schema_components(*tables)
        source = client._qualify_info_schema_table_name(view)
    where, params = [], []
    if catalog:
        where.append("table_catalog = %s")
        params.append(catalog)
    where.append("table_schema = %s")
    params.append(schema)
    if folded:
        where.append(f"table_name in ({', '.join(['%s'] * len(folded))})")
        params += folded
    order = " order by table_name, ordinal_position" if view == "COLUMNS" else ""
    query = f"select {selected} from {source} where {' and '.join(where)}{order}"
    return list(client.execute_sql(query, *params) or [])


def relations(client: SqlClientBase[Any], dataset: str) -> dict[str, str]:
    """The tables and views of `dataset`: name -> kind as the catalog states it (`BASE TABLE`, `VIEW`)."""
    rows = _query(client, "TABLES", "table_name, table_type", dataset, ())
    return {str(name).lower(): str(kind).upper() for name, kind in rows}


def columns(client: SqlClientBase[Any], dataset: str, table: str) -> Columns:
    """The columns of `dataset.table` (a table or a view), in order; empty when it does not exist."""
    rows = _query(client, "COLUMNS", "table_name, column_name, data_type", dataset, (table,))
    return [(str(column), str(kind).lower()) for _, column, kind in rows]


def all_columns(client: SqlClientBase[Any], dataset: str) -> dict[str, set[str]]:
    """The column names of every table and view of `dataset`, by table."""
    found: dict[str, set[str]] = {}
    for table, column, _ in _query(client, "COLUMNS", "table_name, column_name, data_type", dataset, ()):
        found.setdefault(str(table).lower(), set()).add(str(column).lower())
    return found
