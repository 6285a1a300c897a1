"""The layers of the warehouse: `mailjet_api` (what `extract` loads), `mailjet_csv` (what `import-csv`
loads), `mailjet`, the views analysts query, whose SQL sits in `pipelines/models/views/*.sql`, and
`mailjet_models`, the analysts' models over those views (`pipelines/models/analytics/*.sql`) and over the
sync's audit trail (`mailjet_sync`: a table no `plan` has created yet stands in empty, and `plan` publishes
those models again once it has created them: `sync_models.py`).

A view that combines both sources is Mailjet's rows `union all` the file rows that the rules let through,
matched to Mailjet's IDs. Matching reads every Mailjet contact, so it is done once per load rather than
on every query: `pipelines/models/matched/*.sql` computes those file rows into `mailjet_matched`, a
derived copy that each load of Mailjet's data recomputes from the raw layers (never a source of truth).

Every command that loads Mailjet's data (and `load`, while they are missing: writing.py) recomputes
`mailjet_matched` and (re)creates the views and the models, after its load, in one transaction. The SQL
names raw tables as they are (`mailjet_api.contacts`, `mailjet_csv.imports`): a table that exists is read
where it is, one that no command has created yet stands in as an empty relation of the same columns
(sqlglot puts it in the table's place), so every view exists from the first load on. The SQL is written
in DuckDB's dialect and transpiled to the engine's by sqlglot."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from dlt.destinations.exceptions import DatabaseException
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
from pipelines.sync.tables import SYNC_DATASET
from pipelines.sync.tables import TABLES as SYNC_TABLES
from pipelines.warehouse.catalog import relations as catalog_relations
from pipelines.warehouse.datasets import (
    API_DATASET,
    CSV_DATASET,
    LAYER_DATASETS,
    MATCHED_DATASET,
    MODELS_DATASET,
    RAW_TABLES,
    VIEWS_DATASET,
)

VIEWS_FOLDER = MODELS_FOLDER / "views"
MATCHED_FOLDER = MODELS_FOLDER / "matched"
ANALYTICS_FOLDER = MODELS_FOLDER / "analytics"


class LayoutError(Exception):
    """The database holds tables where the views go (an earlier layout); the message names the fix."""


def view_names() -> list[str]:
    """The views of the `mailjet` dataset, one per SQL file."""
    return sorted(p.stem for p in VIEWS_FOLDER.glob("*.sql"))


def matched_names() -> list[str]:
    """The tables of `mailjet_matched`, one per SQL file."""
    return sorted(p.stem for p in MATCHED_FOLDER.glob("*.sql"))


def model_names() -> list[str]:
    """The views of `mailjet_models`, one per SQL file, each after the models it reads."""
    pending = sorted(p.stem for p in ANALYTICS_FOLDER.glob("*.sql"))
    ordered: list[str] = []
    while pending:
        ready = [name for name in pending if model_reads(name) <= set(ordered)]
        if not ready:
            raise ValueError(f"models that read each other in a circle: {pending}")
        ordered += ready
        pending = [name for name in pending if name not in ready]
    return ordered


def model_reads(name: str) -> set[str]:
    """The other models the model `name` reads."""
    tables = statement(name, ANALYTICS_FOLDER).find_all(exp.Table)
    return {t.name for t in tables if t.db == MODELS_DATASET}


def model_sql(name: str, dialect: str, existing: set[tuple[str, str]] | None = None) -> str:
    """The SELECT of the model `name` in `dialect` (it reads the `mailjet` views, other models, and the
    sync's audit trail: a `mailjet_sync` table not in `existing` stands in as an empty relation)."""
    tree = statement(name, ANALYTICS_FOLDER)
    return to_sql(replace_tables(tree, sync_stand_ins(tree, existing or set())), dialect)


def sync_stand_ins(tree: exp.Expression, existing: set[tuple[str, str]]) -> dict[str, Relation]:
    """The `mailjet_sync` tables a model reads that do not exist (no `plan` has run on the database yet):
    an empty relation of each one's columns (`pipelines/sync/tables.py`)."""
    missing: dict[str, Relation] = {}
    for table in tree.find_all(exp.Table):
        if (
            table.db == SYNC_DATASET
            and table.name in SYNC_TABLES
            and (SYNC_DATASET, table.name) not in existing
        ):
            columns = {c: kind.replace(" not null", "") for c, kind in SYNC_TABLES[table.name].items()}
            missing[f"{SYNC_DATASET}.{table.name}"] = empty_relation(columns)
    return missing


def inlined_model(name: str, existing: set[tuple[str, str]]) -> exp.Expression:
    """The model `name` reading the views and the models it reads as subqueries: its columns can be read
    before they are (re)created."""
    tables: dict[str, Relation] = {
        f"{VIEWS_DATASET}.{view}": resolved(view, existing) for view in view_names()
    }
    tables |= {f"{MODELS_DATASET}.{model}": inlined_model(model, existing) for model in model_reads(name)}
    tree = statement(name, ANALYTICS_FOLDER)
    return replace_tables(tree, tables | sync_stand_ins(tree, existing))


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
    return to_sql(resolved(name, set(existing), folder), dialect)


def resolved(name: str, existing: set[tuple[str, str]], folder: Path = VIEWS_FOLDER) -> exp.Expression:
    """The SELECT in `folder/name.sql`, parsed, its missing raw tables standing in as empty relations."""
    tree = statement(name, folder)
    return replace_tables(tree, stand_ins(tree, existing))


def existing_tables(client: SqlClientBase[Any]) -> set[tuple[str, str]]:
    """(dataset, table) of every table of the two raw layers, and of the sync's audit trail, in the
    database."""
    return {
        (dataset, name)
        for dataset in (API_DATASET, CSV_DATASET, SYNC_DATASET)
        for name in relations(client, dataset)
    }


def check_layout(client: SqlClientBase[Any]) -> None:
    """Raise LayoutError when `mailjet` holds tables (a database written by an earlier version)."""
    tables = sorted(
        name for name, kind in catalog_relations(client, VIEWS_DATASET).items() if kind == "BASE TABLE"
    )
    if tables:
        shown = ", ".join(tables[:5])
        raise LayoutError(
            f"the database holds tables in `{VIEWS_DATASET}` ({shown}, ...), written by an earlier "
            f"version that loaded everything there; `{VIEWS_DATASET}` now holds views over "
            f"`{API_DATASET}` and `{CSV_DATASET}`. Load into a new database file (--db NEW.duckdb) and "
            "run `extract` and `import-csv` there; the old file keeps its data. Only once you need nothing "
            "in the old tables (history Mailjet may no longer serve, imports of files you may not have "
            f"anymore), drop them (in DuckDB: `drop schema {VIEWS_DATASET} cascade`) and load again"
        )


Shape = list[tuple[str, str]]  # a relation's columns in order: (name, the engine's type)


class ViewChangeError(LayoutError):
    """A `mailjet` view changes its columns and other views the database keeps read it."""


def shape(client: SqlClientBase[Any], relation: str, dialect: str) -> Shape:
    """The columns (name, type as the engine states it) of a table or view, read without rows."""
    query = to_sql(exp.select("*").from_(exp.to_table(relation)).limit(0), dialect)
    return _described(client, query)


def query_shape(client: SqlClientBase[Any], sql: str) -> Shape:
    """The columns of a query (one of ours, rendered already), read without rows."""
    return _described(client, f"select * from (\n{sql}\n) as q limit 0")


def _described(client: SqlClientBase[Any], query: str) -> Shape:
    with client.execute_query(query) as cursor:
        return [(str(c[0]), str(c[1])) for c in cursor.description or []]


def relations(client: SqlClientBase[Any], dataset: str) -> set[str]:
    """The names of the tables and views of `dataset` in the database."""
    return set(catalog_relations(client, dataset))


def publish_views(client: SqlClientBase[Any]) -> list[str]:
    """Recompute `mailjet_matched` and publish every view of `mailjet`, then every model of
    `mailjet_models` (by the same rules), in one transaction; returns the views' names. Views that other
    views read (the sync's, a user's own) keep working: a derived table whose columns stay is emptied and
    filled again, and a view is replaced in place (`create or replace`), which every engine allows while
    its columns stay (Postgres: or only grow at the end). Only a view whose columns change is dropped
    first (a model first too when a view it reads goes), and the engines that track what reads it refuse
    while a view does: ViewChangeError then, never a drop of someone's view. Raises LayoutError when
    `mailjet` holds tables (a database written by an earlier version)."""
    check_layout(client)
    dialect = dialect_of(client)
    existing = existing_tables(client)
    names = view_names()
    views = {name: view_sql(name, existing, dialect=dialect) for name in names}
    matched = {name: view_sql(name, existing, MATCHED_FOLDER, dialect) for name in matched_names()}
    present = relations(client, MATCHED_DATASET)
    kept = {
        name
        for name, sql in matched.items()
        if name in present and shape(client, f"{MATCHED_DATASET}.{name}", dialect) == query_shape(client, sql)
    }
    models = {name: model_sql(name, dialect, existing) for name in model_names()}
    if kept == set(matched):
        try:
            with client.begin_transaction():
                _publish(client, matched, views, kept, replaced=set(names))
                publish_models(client, models, replaced=set(models))
            return names
        except DatabaseException:
            pass  # a view's columns change, and the engine refused to replace it in place: rolled back
    changed = set(matched) - kept
    dropped: dict[str, Shape | None] = {}  # the views that go first, with their columns
    replaced = set()
    for name in sorted(relations(client, VIEWS_DATASET) & set(names)):
        old = _readable(client, name, dialect)
        if (
            old is not None
            and not reads(name, existing) & {(MATCHED_DATASET, table) for table in changed}
            and query_shape(client, views[name])[: len(old)] == old  # columns kept, or added at the end
        ):
            replaced.add(name)
        else:
            dropped[name] = old
    gone, kept_models = _models_kept(client, existing, dialect, set(dropped))
    with client.begin_transaction():
        for name, old in reversed(gone.items()):  # a model before the models it reads
            drop_view(client, name, old, MODELS_DATASET)
        for name, old in dropped.items():
            drop_view(client, name, old)
        _publish(client, matched, views, kept, replaced)
        publish_models(client, models, kept_models)
    return names


def _models_kept(
    client: SqlClientBase[Any], existing: set[tuple[str, str]], dialect: str, dropped: set[str]
) -> tuple[dict[str, Shape | None], set[str]]:
    """The models to drop first, with their columns (they read a view that goes, or their columns change),
    and those replaced in place."""
    present = relations(client, MODELS_DATASET)
    gone: dict[str, Shape | None] = {}
    replaced = set()
    for name in model_names():
        if name not in present:
            continue
        old = _readable(client, name, dialect, MODELS_DATASET)
        if (
            old is not None
            and not model_views(name) & dropped
            and not model_reads(name) & set(gone)
            and query_shape(client, to_sql(inlined_model(name, existing), dialect))[: len(old)] == old
        ):
            replaced.add(name)
        else:
            gone[name] = old
    return gone, replaced


def publish_models(client: SqlClientBase[Any], models: dict[str, str], replaced: set[str]) -> None:
    """Create the models, in the order they read each other (replaced in place if in `replaced`)."""
    client.execute_sql(f"create schema if not exists {MODELS_DATASET}")
    for name, sql in models.items():
        replace = "or replace " if name in replaced else ""
        client.execute_sql(f"create {replace}view {MODELS_DATASET}.{name} as\n{sql}")


def _publish(
    client: SqlClientBase[Any],
    matched: dict[str, str],
    views: dict[str, str],
    kept: set[str],
    replaced: set[str],
) -> None:
    """Fill the derived tables (emptied and filled again if `kept`, else created) and create the views
    (replaced in place if in `replaced`)."""
    client.execute_sql(f"create schema if not exists {VIEWS_DATASET}")
    client.execute_sql(f"create schema if not exists {MATCHED_DATASET}")
    for name, sql in matched.items():
        if name in kept:
            client.execute_sql(f"delete from {MATCHED_DATASET}.{name}")
            client.execute_sql(f"insert into {MATCHED_DATASET}.{name}\n{sql}")
        else:
            client.execute_sql(f"drop table if exists {MATCHED_DATASET}.{name}")
            client.execute_sql(f"create table {MATCHED_DATASET}.{name} as\n{sql}")
    for name, sql in views.items():
        replace = "or replace " if name in replaced else ""
        client.execute_sql(f"create {replace}view {VIEWS_DATASET}.{name} as\n{sql}")


def reads(name: str, existing: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """(dataset, table) of every table the view `name` reads."""
    return {(t.db, t.name) for t in resolved(name, existing).find_all(exp.Table) if t.db}


def _readable(
    client: SqlClientBase[Any], name: str, dialect: str, dataset: str = VIEWS_DATASET
) -> Shape | None:
    """The columns of the view `dataset.name`; None when the database cannot read it any more (a table
    it read was dropped by hand)."""
    try:
        return shape(client, f"{dataset}.{name}", dialect)
    except DatabaseException:
        return None


def drop_view(
    client: SqlClientBase[Any], name: str, old: Shape | None = None, dataset: str = VIEWS_DATASET
) -> None:
    """Drop a view of ours (`mailjet`, `mailjet_models`) whose columns change; ViewChangeError when other
    views read it (the engines that track them refuse: their views are the user's to drop, never ours)."""
    try:
        client.execute_sql(f"drop view if exists {dataset}.{name}")
    except DatabaseException as exc:
        told = " ".join(line.strip() for line in str(exc).strip().splitlines()[:4])
        columns = f" ({', '.join(c for c, _ in old)})" if old else ""
        raise ViewChangeError(
            f"the view {dataset}.{name}{columns} changes its columns in this version, and other "
            f"views read it, so the database refuses to replace it ({told}). Drop the views that read "
            f"{dataset}.{name} (named above), run this command again, then create yours again; `plan` "
            "creates the sync's own views again by itself"
        ) from None


def model_views(name: str) -> set[str]:
    """The `mailjet` views the model `name` reads itself."""
    tables = statement(name, ANALYTICS_FOLDER).find_all(exp.Table)
    return {t.name for t in tables if t.db == VIEWS_DATASET}


def models_reading(views: set[str]) -> list[str]:
    """The models that read any of `views`, themselves or through other models, each before the models
    it reads (the order they can be dropped in)."""
    reading: set[str] = set()
    for name in model_names():  # each after the models it reads
        if model_views(name) & views or model_reads(name) & reading:
            reading.add(name)
    return [name for name in reversed(model_names()) if name in reading]


def drop_models(client: SqlClientBase[Any], views: set[str]) -> None:
    """Drop the models that read any of `views` (each before the models it reads), so that those views
    can go: the next `publish_views` creates them again. The other models stay."""
    for name in models_reading(views):
        drop_view(client, name, dataset=MODELS_DATASET)
