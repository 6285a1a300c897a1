"""The audiences' views in `mailjet_sync`: each audience's `create or replace view`, its unqualified
tables read from `mailjet` (or `mailjet_sync`, for the consent views and other audiences), created and
checked before any run is written."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlglot
from dlt.destinations.exceptions import DatabaseException
from dlt.destinations.sql_client import SqlClientBase
from sqlglot import exp

from pipelines.models import replace_tables
from pipelines.models.norm import expand_norm
from pipelines.models.written import write
from pipelines.sync.audiences import Audience, AudienceError, missing_properties
from pipelines.sync.tables import SYNC_DATASET
from pipelines.warehouse.catalog import columns
from pipelines.warehouse.datasets import VIEWS_DATASET

SYNC_VIEWS = ("consent_ledger", "consent_current", "consent_lists")


def view_create(item: Audience) -> exp.Create:
    """The audience's `create or replace view` (DuckDB's dialect, as the file writes it), in
    `mailjet_sync`, its unqualified tables read from `mailjet` (or `mailjet_sync`, for the consent views
    and other audiences), its calls of `mailjet_sync.norm` replaced by the normalization's expression."""
    create = expand_norm(sqlglot.parse_one(item.sql, read="duckdb"))
    assert isinstance(create, exp.Create)
    ctes = {cte.alias_or_name.lower() for cte in create.find_all(exp.CTE)}
    for relation in create.find_all(exp.Table):
        if (
            relation is create.this
            or relation.args.get("db")
            or not isinstance(relation.this, exp.Identifier)
        ):
            continue
        name = relation.name.lower()
        if name in ctes:
            continue
        own = name in SYNC_VIEWS or name.startswith("audience_")
        relation.set("db", exp.to_identifier(SYNC_DATASET if own else VIEWS_DATASET))
    create.this.set("db", exp.to_identifier(SYNC_DATASET))
    create.set("replace", True)
    return create


def view_statement(item: Audience, dialect: str) -> str:
    """The audience's `create or replace view` in `dialect` (`view_create`)."""
    return write(view_create(item), dialect)


def view_query(item: Audience, stand_ins: Mapping[str, str]) -> exp.Expression:
    """The query of the audience's view, each table of `stand_ins` (`dataset.name` -> a table's name) read
    from its stand-in under the name or alias the view gives it, so that columns qualified by it still
    resolve: what the view reads, without going through the view (the audiences file names no columns
    after the view's name: its query names them)."""
    create = view_create(item)
    query = create.expression
    wanted = {key.lower(): exp.select("*").from_(name) for key, name in stand_ins.items()}
    # A column qualified by the whole name (`mailjet_sync.consent_current.email`) by the table's alone.
    for column in query.find_all(exp.Column):
        if column.db and f"{column.db}.{column.table}".lower() in wanted:
            column.set("db", None)
            column.set("catalog", None)
    return replace_tables(query, dict(wanted))


def view_columns(client: SqlClientBase[Any], view: str) -> list[str]:
    """The columns of a view of `mailjet_sync`, in order."""
    return [name for name, _ in columns(client, SYNC_DATASET, view)]


def where(item: Audience, source: Path) -> str:
    """How messages name an audience: the file, its line, its name."""
    return f"{source}:{item.line}: audience {item.name!r}"


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (its type's name when it has none)."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def check_columns(item: Audience, source: Path, columns: list[str]) -> None:
    """Raise AudienceError when a view's columns lack `email` or a declared property."""
    named = {c.lower() for c in columns}
    if "email" not in named:
        raise AudienceError(
            f"{where(item, source)}: the view yields no `email` column (it yields {', '.join(columns)}); "
            "select the address as `email`"
        )
    missing = [p for p in item.properties if p.lower() not in named]
    if missing:
        raise AudienceError(missing_properties(where(item, source), missing, columns))


def create_view(client: SqlClientBase[Any], item: Audience, source: Path, dialect: str) -> None:
    """Create the audience's view in `mailjet_sync` and check it yields `email`; AudienceError when the
    database refuses it."""
    try:
        client.execute_sql(view_statement(item, dialect))
    except DatabaseException as exc:
        raise AudienceError(
            f"{where(item, source)}: the database refused its view ({first_line(exc)}). Fix the SQL; a table "
            "it reads from your CRM must be loaded first (mailjet-elt load FILE --table NAME)"
        ) from None
    check_columns(item, source, view_columns(client, item.view))
