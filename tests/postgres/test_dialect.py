"""What the SQL becomes on Postgres, from the statements alone: the normalization written in place of each
call, and the stand-ins of tables not loaded yet typed as dlt will create the tables; and every shipped
statement written in each dialect the README names, and read back."""

from __future__ import annotations

import inspect

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from pipelines.models import MODELS_FOLDER, READ_DIALECT, SYNC_FOLDER, empty_relation, load, statement, to_sql
from pipelines.models.norm import norm_of
from pipelines.models.written import write
from pipelines.sync import tables
from pipelines.sync.audiences import Audience
from pipelines.sync.views import view_statement


@pytest.mark.unit
@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "bigquery", "snowflake"])
def test_norm_is_written_in_place_of_each_call_with_nothing_to_define(dialect: str) -> None:
    """Every statement and audience view that normalizes carries the expression itself: no engine needs a
    macro or a function defined first, and none is defined."""
    calls = 0
    for path in sorted(SYNC_FOLDER.glob("*.sql")):
        calls += load(path.stem).count("mailjet_sync.norm(")
        written = to_sql(statement(path.stem), dialect)
        assert "norm(" not in written.lower(), path
    assert calls > 20
    body = norm_of(exp.column("email"))
    item = Audience(
        "vip",
        "VIP",
        "keep",
        (),
        "create view audience_vip as select mailjet_sync.norm(email) as email from crm.people",
        1,
    )
    view = view_statement(item, dialect)
    assert "norm(" not in view.lower()
    assert to_sql(body, dialect) in view.replace("people.email", "email")
    assert not hasattr(tables, "norm_statements") and "norm" not in inspect.getsource(tables.create_tables)


@pytest.mark.unit
@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "bigquery", "snowflake", "databricks"])
def test_norm_writes_its_characters_as_literals_never_chr(dialect: str) -> None:
    """Engines disagree on `chr(n)` beyond 255 (Databricks takes n modulo 256): the blanks are written as
    the characters themselves, in literals, whatever the argument."""
    for argument in (exp.column("email"), exp.Placeholder()):
        written = to_sql(norm_of(argument), dialect)
        assert "chr(" not in written.lower(), written
        assert "\u00a0" in written and "\u2028" in written and "\u3000" in written and "\ufeff" in written


@pytest.mark.unit
@pytest.mark.parametrize(
    ("dialect", "flag"),
    [("duckdb", True), ("postgres", True), ("bigquery", False), ("snowflake", False), ("databricks", False)],
)
def test_a_global_replacement_is_written_as_each_engine_replaces_every_match(
    dialect: str, flag: bool
) -> None:
    """DuckDB and PostgreSQL replace every match only with the flag 'g'; the others always do, and take no
    such flag (Snowflake would read it as a position)."""
    written = write(sqlglot.parse_one("select regexp_replace(x, '[ab]', ' ', 'g')", read="duckdb"), dialect)
    assert written.endswith("' ', 'g')") is flag, written
    assert "' ', 'g'" in to_sql(norm_of(exp.column("email")), dialect) or not flag
    first = write(sqlglot.parse_one("select regexp_replace(x, '^a', '')", read="duckdb"), dialect)
    assert "'g'" not in first


@pytest.mark.unit
@pytest.mark.parametrize(
    ("dialect", "written"),
    [
        ("duckdb", "REGEXP_MATCHES(x, '[ab]')"),
        ("postgres", "x ~ '[ab]'"),
        ("bigquery", "REGEXP_CONTAINS(x, '[ab]')"),
        ("snowflake", "REGEXP_INSTR(x, '[ab]') > 0"),
        ("databricks", "REGEXP_LIKE(x, '[ab]')"),
    ],
)
def test_a_match_anywhere_in_a_value_is_written_as_each_engine_finds_one(dialect: str, written: str) -> None:
    """The normalization tests a column for a blank anywhere in it before replacing: Snowflake's
    `regexp_like` matches the whole value only, so there it is the position of a match."""
    assert write(sqlglot.parse_one("select regexp_matches(x, '[ab]')", read="duckdb"), dialect) == (
        f"SELECT {written}"
    )
    column, parameter = (
        to_sql(norm_of(exp.column("email")), dialect),
        to_sql(norm_of(exp.Placeholder()), dialect),
    )
    assert column.upper().startswith("CASE WHEN ") and "CASE" not in parameter.upper()


@pytest.mark.unit
def test_a_stand_in_has_the_types_of_the_table_dlt_creates_on_postgres() -> None:
    columns = {"email": "varchar", "id": "bigint", "at": "timestamp with time zone", "ok": "boolean"}
    assert to_sql(empty_relation(columns), "postgres") == (
        "SELECT CAST(NULL AS VARCHAR) AS email, CAST(NULL AS BIGINT) AS id, CAST(NULL AS TIMESTAMPTZ) AS at, "
        "CAST(NULL AS BOOLEAN) AS ok WHERE 1 = 0"
    )


DIALECTS = ("postgres", "bigquery", "snowflake", "databricks", "duckdb")  # duckdb: MotherDuck's too
SHIPPED = sorted(MODELS_FOLDER.rglob("*.sql"))


@pytest.mark.unit
@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_shipped_statement_transpiles_and_parses_back(dialect: str) -> None:
    """Each statement of pipelines/models, written in DuckDB's dialect, is written in `dialect` (by the
    project's writer) without a construct it cannot express there, and that text parses back as a
    statement (not as an opaque command)."""
    assert len(SHIPPED) > 60
    for path in SHIPPED:
        for tree in sqlglot.parse(path.read_text(encoding="utf-8"), read=READ_DIALECT):
            assert tree is not None and not isinstance(tree, exp.Command), path
            written = write(tree, dialect, unsupported_level=ErrorLevel.RAISE)
            back = sqlglot.parse_one(written, read=dialect)
            assert not isinstance(back, exp.Command), (path, written)
