"""Every SQL statement of the project as a `.sql` file, written once in DuckDB's dialect and transpiled
per engine by sqlglot: the `mailjet` views (`views/`), the analysts' models over them (`analytics/`), the
file rows matched to Mailjet's IDs (`matched/`), the statements of the sync engine (`sync/`: the consent
ledger, the diff, the plan's summaries), one person's story for `mailjet-elt explain` (`explain/`), the
latest command runs for `mailjet-elt runs` (`command_runs/`), the settings that keep `mailjet-elt sql` to
reading (`reader/`, DuckDB's own), the writer lock of a PostgreSQL warehouse (`writer_lock/`,
PostgreSQL's own) and the leased writer lock of the other server warehouses (`writer_lease/`).

Values are bind parameters (`?` in the file, rendered as the engine's marker: `%s` for Postgres), passed
to the SQL client with the statement. Names decided at run time (a table that may not exist yet, the
relation of an audience's properties) are sqlglot expressions put in the place of a table of the
statement: never text pasted into SQL. A call of `mailjet_sync.norm` is replaced by the normalization's
expression (`norm.py`), and each engine's text is written by `written.py`: no engine needs a function
defined first, and no Python code chooses SQL by the engine's name."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

import sqlglot
from sqlglot import exp

from pipelines.models.norm import expand_norm
from pipelines.models.written import write

MODELS_FOLDER = Path(__file__).parent
SYNC_FOLDER = MODELS_FOLDER / "sync"
READ_DIALECT = "duckdb"  # the dialect every file is written in

Relation = exp.Expression | str  # a query standing in for a table, or another table's name


def load(name: str, folder: Path = SYNC_FOLDER) -> str:
    """The text of `folder/name.sql`."""
    return (folder / f"{name}.sql").read_text(encoding="utf-8")


@cache
def _parsed(name: str, folder: Path) -> exp.Expression:
    tree = expand_norm(sqlglot.parse_one(load(name, folder), read=READ_DIALECT))
    assert isinstance(tree, exp.Expression)
    return tree


def statement(name: str, folder: Path = SYNC_FOLDER) -> exp.Expression:
    """The statement of `folder/name.sql`, parsed, its calls of `mailjet_sync.norm` replaced by the
    normalization's expression (a copy the caller may change)."""
    return _parsed(name, folder).copy()


def table_key(table: exp.Table) -> str:
    """A table's name as a statement writes it (`dataset.name` or `name`), lowercased."""
    return ".".join(part for part in (table.db, table.name) if part).lower()


def replace_tables(tree: exp.Expression, tables: Mapping[str, Relation]) -> exp.Expression:
    """`tree` with each table named in `tables` (as `table_key` writes it) read from its relation: a
    table name, or a query that stands in as a subquery under the table's alias (else its name)."""
    wanted = {k.lower(): v for k, v in tables.items()}
    for table in list(tree.find_all(exp.Table)):
        relation = wanted.get(table_key(table))
        if relation is None or not table.name:
            continue
        if isinstance(relation, str):
            replacement: exp.Expression = exp.to_table(relation)
            if table.alias:
                replacement.set("alias", exp.TableAlias(this=exp.to_identifier(table.alias)))
        else:
            replacement = exp.Subquery(
                this=relation.copy(), alias=exp.TableAlias(this=exp.to_identifier(table.alias or table.name))
            )
        table.replace(replacement)
    return tree


def placeholders(tree: exp.Expression) -> int:
    """How many bind parameters a statement takes."""
    return sum(1 for _ in tree.find_all(exp.Placeholder))


def to_sql(tree: exp.Expression, dialect: str) -> str:
    """A statement as `dialect` writes it (pipelines/models/written.py)."""
    return write(tree, dialect, comments=False)


def render(
    name: str, dialect: str, tables: Mapping[str, Relation] | None = None, folder: Path = SYNC_FOLDER
) -> str:
    """The statement of `folder/name.sql` in `dialect`, the tables of `tables` replaced."""
    tables = tables or {}
    names = {key: relation for key, relation in tables.items() if isinstance(relation, str)}
    if len(names) == len(tables):
        return _render_named(name, dialect, tuple(sorted(names.items())), folder)
    return to_sql(replace_tables(statement(name, folder), tables), dialect)


@cache
def _render_named(name: str, dialect: str, tables: tuple[tuple[str, str], ...], folder: Path) -> str:
    """`render` with tables replaced by other tables' names only: the same text for the same input, made
    once per process (the files are read once per process, see `statement`)."""
    return to_sql(replace_tables(statement(name, folder), dict(tables)), dialect)


def empty_relation(columns: Mapping[str, str]) -> exp.Select:
    """A relation without rows of the given (name -> SQL type) columns."""
    # Portable type names, built in no dialect: in DuckDB's, `varchar` is text, and a Postgres view over
    # a stand-in would change its columns' types (text to varchar) once the real table is loaded.
    nulls = [exp.cast(exp.null(), exp.DataType.build(kind)).as_(name) for name, kind in columns.items()]
    return exp.select(*nulls).where("1 = 0")


def dialect_of(client: object) -> str:
    """The sqlglot dialect of a dlt SQL client (DuckDB's when the destination does not say)."""
    capabilities = getattr(client, "capabilities", None)
    return str(getattr(capabilities, "sqlglot_dialect", None) or READ_DIALECT)
