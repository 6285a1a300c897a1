"""Columns whose type changed between versions of the `mailjet_api` tables, retyped in place.

An earlier version loaded `sms_messages.id` and `campaign_drafts.ax_testing` as integers; the API may send
either as text (a UUID, an object kept as JSON text), so they are text now. dlt never changes a column's
type by itself, and a load of text into the old integer column fails, so the extract retypes such a column
(in the table and in its staging copy, whose rows are transient), then records the new type in the
pipeline's schema. Every value survives: an integer's text is its digits. DuckDB and Postgres retype in
place; on another destination the extract stops and says what to change.

Killed at any point, the next run does the same again: retyping a column that is text already changes
nothing, and the schema is written only once the database holds the new type."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from dlt.destinations.exceptions import DatabaseUndefinedRelation
from dlt.destinations.sql_client import SqlClientBase
from dlt.pipeline.pipeline import Pipeline

from pipelines.warehouse.datasets import API_DATASET
from pipelines.warehouse.publish import (
    drop_models,
    drop_view,
    existing_tables,
    publish_views,
    reads,
    view_names,
)
from sources.mailjet.schema import API_TABLES, DLT_TYPES, SQL_TYPES, Kind

# Type changes the extract may apply by itself: every value of the old type reads the same in the new.
WIDENINGS = {("bigint", "text")}
# Engines (sqlglot's dialects, from dlt's capabilities) that retype a column in place, keeping its values
# (`alter column ... type ... using`): BigQuery and Snowflake cannot turn an integer column into text.
RETYPES_IN_PLACE = ("duckdb", "postgres")


class RetypeError(Exception):
    """A column must change type and this destination cannot do it in place; the message says how."""


def retype_columns(pipeline: Pipeline) -> list[str]:
    """Retype the columns the pipeline's schema holds with a type the tables no longer declare, where
    the change loses nothing; returns `table.column` of each one, for the user."""
    if not pipeline.default_schema_name:
        return []
    schema = pipeline.default_schema
    changes: list[tuple[str, str, Kind]] = []  # (table, column, its kind now)
    for table in API_TABLES:
        stored = schema.tables.get(table.name, {}).get("columns", {})
        for column in table.columns:
            was = stored.get(column.name, {}).get("data_type")
            if was is not None and (was, DLT_TYPES[column.kind]) in WIDENINGS:
                changes.append((table.name, column.name, column.kind))
    if not changes:
        return []
    where = str(pipeline.destination.capabilities().sqlglot_dialect)
    if where not in RETYPES_IN_PLACE:
        shown = ", ".join(f"{table}.{column}" for table, column, _ in changes)
        raise RetypeError(
            f"{shown} became text in this version, and the extract retypes a column in place only on "
            f"{' and '.join(RETYPES_IN_PLACE)}, not on {where}. Change each to a text type in the "
            f"`{API_DATASET}` dataset yourself (and in `{API_DATASET}_staging` if it is there), keeping the "
            "values, then run `extract` again"
        )
    with pipeline.sql_client() as client:
        existing = existing_tables(client)
        with client.begin_transaction():
            # Postgres refuses to retype a column a view reads: the views that read the tables go, and
            # come back right after; ViewChangeError when a view of the user's reads one of them.
            retyped = {(API_DATASET, table_name) for table_name, _, _ in changes}
            going = [view for view in view_names() if reads(view, existing) & retyped]
            drop_models(client, set(going))  # those that read them, and come back with them
            for view in going:
                drop_view(client, view)
            for table_name, column, kind in changes:
                if (API_DATASET, table_name) in existing:  # else dlt creates it with the new type
                    client.execute_sql(_alter(client, table_name, column, kind))
        publish_views(client)  # at once: a long extract follows, and analysts query meanwhile
        for table_name, column, kind in changes:
            with client.with_staging_dataset(), suppress(DatabaseUndefinedRelation):
                client.execute_sql(_alter(client, table_name, column, kind))
    for table_name, column, kind in changes:
        schema.tables[table_name]["columns"][column]["data_type"] = DLT_TYPES[kind]
    pipeline.schemas.save_schema(schema)
    return [f"{table}.{column}" for table, column, _ in changes]


def _alter(client: SqlClientBase[Any], table: str, column: str, kind: Kind) -> str:
    name, sql_type = client.escape_column_name(column), SQL_TYPES[kind]
    return (
        f"alter table {client.make_qualified_table_name(table)} "
        f"alter column {name} type {sql_type} using cast({name} as {sql_type})"
    )
