"""The layers of the warehouse: `mailjet_api` (what `extract` loads), `mailjet_csv` (what `import-csv`
loads) and `mailjet`, the views analysts query, whose SQL sits in `pipelines/models/views/*.sql`.

A view that combines both sources is Mailjet's rows `union all` the file rows that the rules let through,
matched to Mailjet's IDs. Matching reads every Mailjet contact, so it is done once per load rather than
on every query: `pipelines/models/matched/*.sql` computes those file rows into `mailjet_matched`, a
derived copy that any load recomputes from the raw layers (never a source of truth).

Every command that loads recomputes `mailjet_matched` and (re)creates the views, after its load, in one
transaction. The SQL names raw tables as they are (`mailjet_api.contacts`, `mailjet_csv.imports`): a
table that exists is read where it is, one that no command has created yet stands in as an empty
relation of the same columns (sqlglot puts it in the table's place), so every view exists from the first
load on. The SQL is written in DuckDB's dialect and transpiled to the engine's by sqlglot."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from dlt.destinations.sql_client import SqlClientBase
from sqlglot import exp

from pipelines.models import (
    MODELS_FOLDER,
    READ_DIALECT,
    Relation,
    dialect_of,
    empty_relation,
    replace_tables,
    statement,
    to_sql,
)
from pipelines.warehouse.datasets import (
    API_DATASET,
    CSV_DATASET,
    LAYER_DATASETS,
    MATCHED_DATASET,
    RAW_TABLES,
    VIEWS_DATASET,
)

VIEWS_FOLDER = MODELS_FOLDER / "views"
MATCHED_FOLDER = MODELS_FOLDER / "matched"


class LayoutError(Exception):
    """The database holds tables where the views go (an earlier layout); the message names the fix."""


def view_names() -> list[str]:
    """The views of the `mailjet` dataset, one per SQL file."""
    return sorted(p.stem for p in VIEWS_FOLDER.glob("*.sql"))


def matched_names() -> list[str]:
    """The tables of `mailjet_matched`, one per SQL file."""
    return sorted(p.stem for p in MATCHED_FOLDER.glob("*.sql"))


def raw_tables(tree: exp.Expression) -> list[tuple[str, str]]:
    """(layer, table) of each raw table a statement reads (`mailjet_api.*`, `mailjet_csv.*`)."""
    layers = {dataset: layer for layer, dataset in LAYER_DATASETS.items()}
    found = []
    for table in tree.find_all(exp.Table):
        if table.db in layers:
            found.append((layers[table.db], table.name))
    return found


def stand_ins(tree: exp.Expression, existing: set[tuple[str, str]]) -> dict[str, Relation]:
    """The raw tables a statement reads that do not exist: an empty relation of each one's columns."""
    missing: dict[str, Relation] = {}
    for layer, name in raw_tables(tree):
        dataset = LAYER_DATASETS[layer]
        if (dataset, name) not in existing:
            missing[f"{dataset}.{name}"] = empty_relation(RAW_TABLES[layer][name].sql_columns())
    return missing


def view_sql(
    name: str, existing: set[tuple[str, str]], folder: Path = VIEWS_FOLDER, dialect: str = READ_DIALECT
) -> str:
    """The SELECT in `folder/name.sql` in `dialect`, its raw tables resolved: `(dataset, table)` pairs
    in `existing` are read where they are, the others stand in as empty relations of their columns."""
    return _rendered(name, frozenset(existing), folder, dialect)


@cache
def _rendered(name: str, existing: frozenset[tuple[str, str]], folder: Path, dialect: str) -> str:
    """`view_sql`, rendered once per process for each input: every load publishes the same views again,
    and the files are read once per process (`statement`)."""
    tree = statement(name, folder)
    return to_sql(replace_tables(tree, stand_ins(tree, set(existing))), dialect)


def existing_tables(client: SqlClientBase[Any]) -> set[tuple[str, str]]:
    """(dataset, table) of every table of the two raw layers in the database."""
    rows = client.execute_sql(
        "select table_schema, table_name from information_schema.tables "
        "where table_catalog = current_database() and table_schema in (%s, %s)",
        API_DATASET,
        CSV_DATASET,
    )
    return {(str(s), str(t)) for s, t in rows or []}


def check_layout(client: SqlClientBase[Any]) -> None:
    """Raise LayoutError when `mailjet` holds tables (a database written by an earlier version)."""
    tables = client.execute_sql(
        "select table_name from information_schema.tables where table_catalog = current_database() "
        "and table_schema = %s and table_type = 'BASE TABLE' order by table_name",
        VIEWS_DATASET,
    )
    if tables:
        shown = ", ".join(str(t[0]) for t in tables[:5])
        raise LayoutError(
            f"the database holds tables in `{VIEWS_DATASET}` ({shown}, ...), written by an earlier "
            f"version that loaded everything there; `{VIEWS_DATASET}` now holds views over "
            f"`{API_DATASET}` and `{CSV_DATASET}`. Load into a new database file (--db NEW.duckdb) and "
            "run `extract` and `import-csv` there; the old file keeps its data. Only once you need nothing "
            "in the old tables (history Mailjet may no longer serve, imports of files you may not have "
            f"anymore), drop them (in DuckDB: `drop schema {VIEWS_DATASET} cascade`) and load again"
        )


def publish_views(client: SqlClientBase[Any]) -> list[str]:
    """Recompute `mailjet_matched` and (re)create every view of `mailjet`, in one transaction; returns
    the views' names. Raises LayoutError when `mailjet` holds tables (a database written by an earlier
    version)."""
    check_layout(client)
    dialect = dialect_of(client)
    existing = existing_tables(client)
    names = view_names()
    with client.begin_transaction():
        client.execute_sql(f"create schema if not exists {VIEWS_DATASET}")
        for name in names:  # first: Postgres refuses to drop a table a view still reads
            client.execute_sql(f"drop view if exists {VIEWS_DATASET}.{name}")
        client.execute_sql(f"create schema if not exists {MATCHED_DATASET}")
        for name in matched_names():
            client.execute_sql(f"drop table if exists {MATCHED_DATASET}.{name}")
            sql = view_sql(name, existing, MATCHED_FOLDER, dialect)
            client.execute_sql(f"create table {MATCHED_DATASET}.{name} as\n{sql}")
        for name in names:
            client.execute_sql(
                f"create view {VIEWS_DATASET}.{name} as\n{view_sql(name, existing, dialect=dialect)}"
            )
    return names
