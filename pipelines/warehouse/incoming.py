"""How `load` puts a file into `crm.TABLE` so that readers only ever see the old table or the new one.

dlt loads the file into `crm._load_incoming`, a table dropped (from the database and from dlt's schema)
before each load, so that dlt creates it from the file's own types. One transaction then puts it in place
of `crm.TABLE` (or adds its rows to it) and drops it. dlt's `replace` strategies do not serve here:
`truncate-and-insert` empties the table before the new rows are in, and on DuckDB `insert-from-staging`
runs its delete and its insert in two commits (dlt's DuckDB capabilities declare no transactions);
neither can change a column's type.

`crm._unfinished_loads` holds one row per load that has started and not put its rows in place yet: the
transaction that does removes it. `plan` refuses to plan while a row is there (a stopped load left the
table as it was before the file the user meant to load)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dlt.common.schema.typing import TTableSchemaColumns
from dlt.destinations.exceptions import DatabaseUndefinedRelation
from dlt.destinations.sql_client import SqlClientBase
from dlt.pipeline.pipeline import Pipeline

from pipelines.warehouse.catalog import columns
from pipelines.warehouse.datasets import CRM_DATASET

INCOMING = "_load_incoming"  # one at a time: loads hold the writer lock
UNFINISHED = "_unfinished_loads"


@dataclass(frozen=True)
class TypeChange:
    """A column whose type differs between the file and the table it goes to."""

    column: str
    table_type: str
    file_type: str

    def __str__(self) -> str:
        return f"{self.column} ({self.table_type} -> {self.file_type})"


@dataclass(frozen=True)
class UnfinishedLoad:
    """A load that started and did not put its rows in place."""

    table: str
    file: str
    append: bool
    started_at: datetime


def type_changes(table: TTableSchemaColumns, incoming: TTableSchemaColumns) -> list[TypeChange]:
    """The columns both have whose dlt data types differ, in the file's order (column names as the
    destination stores them; dlt's `_dlt_*` columns are its own)."""
    changes = []
    for name, column in incoming.items():
        was = table.get(name, {}).get("data_type")
        now = column.get("data_type")
        if was is not None and now is not None and was != now and not name.startswith("_dlt_"):
            changes.append(TypeChange(name, was, now))
    return changes


def storage_columns(pipeline: Pipeline, table: str) -> TTableSchemaColumns:
    """The columns of `crm.<table>` as the database holds them, typed the dlt way; empty when there is no
    such table."""
    with pipeline.destination_client() as client:
        _, columns = client.get_storage_table(table)  # type: ignore[attr-defined]
    return dict(columns)


def mark_started(pipeline: Pipeline, table: str, file: str, append: bool) -> None:
    """Record that a load of `file` into `crm.<table>` has started (replacing any earlier record of it),
    and drop the incoming table, so that dlt creates it again from the file's types."""
    with pipeline.sql_client() as client:
        if not client.has_dataset():
            client.create_dataset()
        name = client.make_qualified_table_name(UNFINISHED)
        client.execute_sql(
            f"create table if not exists {name} (table_name varchar, file varchar, is_append boolean, "
            "started_at timestamp with time zone)"
        )
        with client.begin_transaction():
            client.execute_sql(f"delete from {name} where table_name = %s", table)
            client.execute_sql(
                f"insert into {name} values (%s, %s, %s, %s)", table, file, append, datetime.now(UTC)
            )
    if pipeline.default_schema_name and INCOMING in pipeline.default_schema.tables:
        # What dlt's `drop_resources` refresh does, without its staging dataset (a table loaded without
        # staging has none): the stored versions of the schema go too, or dlt would take a schema equal
        # to one it stored before as created already.
        schema = pipeline.default_schema
        with pipeline.destination_client() as job_client:
            job_client.drop_tables(INCOMING, delete_schema=True)
        schema.drop_tables([INCOMING])
        pipeline.schemas.save_schema(schema)


def forget_started(pipeline: Pipeline, table: str) -> None:
    """The load into `crm.<table>` failed and left the table as it was: drop its record and the incoming
    rows."""
    with pipeline.sql_client() as client, client.begin_transaction():
        with contextlib.suppress(DatabaseUndefinedRelation):
            marks = client.make_qualified_table_name(UNFINISHED)
            client.execute_sql(f"delete from {marks} where table_name = %s", table)
        client.execute_sql(f"drop table if exists {client.make_qualified_table_name(INCOMING)}")


def unfinished_loads(client: SqlClientBase[Any]) -> list[UnfinishedLoad]:
    """The loads into `crm` that started and did not put their rows in place, oldest first."""
    name = f"{client.escape_column_name(CRM_DATASET)}.{client.escape_column_name(UNFINISHED)}"
    try:
        rows = client.execute_sql(
            f"select table_name, file, is_append, started_at from {name} order by started_at"
        )
    except DatabaseUndefinedRelation:
        return []
    return [UnfinishedLoad(str(t), str(f), bool(a), s) for t, f, a, s in rows or []]


def put_in_place(pipeline: Pipeline, table: str, append: bool) -> bool:
    """In one transaction: the incoming rows replace `crm.<table>` (or are added to it), the incoming
    table goes and the load's record with it. False, and nothing done, when there is no record of the
    load (its rows were put in place already)."""
    with pipeline.sql_client() as client:
        marks = client.make_qualified_table_name(UNFINISHED)
        incoming = client.make_qualified_table_name(INCOMING)
        target = client.make_qualified_table_name(table)
        try:
            pending = client.execute_sql(f"select count(*) from {marks} where table_name = %s", table)
        except DatabaseUndefinedRelation:
            return False
        if not pending or not pending[0][0]:
            return False
        new = _columns(client, INCOMING)
        old = _columns(client, table)
        names = ", ".join(client.escape_column_name(c) for c in new)
        with client.begin_transaction():
            if append and old:
                for column, kind in new.items():
                    if column not in old:
                        client.execute_sql(
                            f"alter table {target} add column {client.escape_column_name(column)} {kind}"
                        )
                client.execute_sql(f"insert into {target} ({names}) select {names} from {incoming}")
            elif old == new:  # the same columns and types: the table stays, so do the views reading it
                client.execute_sql(f"delete from {target}")
                client.execute_sql(f"insert into {target} ({names}) select {names} from {incoming}")
            else:
                client.execute_sql(f"drop table if exists {target}")
                client.execute_sql(f"create table {target} as select * from {incoming}")
            client.execute_sql(f"drop table {incoming}")
            client.execute_sql(f"delete from {marks} where table_name = %s", table)
    return True


def _columns(client: SqlClientBase[Any], table: str) -> Mapping[str, str]:
    """The columns of `crm.<table>` with their SQL types, in order; empty when it does not exist."""
    return dict(columns(client, client.dataset_name, table))
