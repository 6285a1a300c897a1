"""What the SQL becomes on Postgres, from the statements alone: the normalization as an SQL function, and
the stand-ins of tables not loaded yet typed as dlt will create the tables; and every shipped statement
written in each dialect the README names, and read back."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from pipelines.models import MODELS_FOLDER, READ_DIALECT, SYNC_FOLDER, empty_relation, to_sql
from pipelines.sync.norm import norm_statements


@pytest.mark.unit
def test_norm_is_a_macro_on_duckdb_and_a_function_of_text_and_of_any_type_on_postgres() -> None:
    (macro,) = norm_statements("duckdb")
    assert macro.startswith("CREATE OR REPLACE MACRO mailjet_sync.norm(x) AS NULLIF(LOWER(TRIM(TRANSLATE(")
    text, any_type = norm_statements("postgres")
    assert text.startswith("create or replace function mailjet_sync.norm(x text) returns text language sql")
    body = macro.split(" AS ", 1)[1]
    assert f"$$ select {sqlglot.transpile(body, read='duckdb', write='postgres')[0]} $$" in text
    assert "(x anyelement) returns text" in any_type
    assert "$$ select mailjet_sync.norm(cast(x as text)) $$" in any_type


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
    """Each statement of pipelines/models, written in DuckDB's dialect, is written in `dialect` without a
    construct sqlglot cannot express there, and that text parses back as a statement (not as an opaque
    command). The normalization is a macro on DuckDB and a function elsewhere (pipelines/sync/norm.py):
    its body is what is checked there."""
    assert len(SHIPPED) > 60
    for path in SHIPPED:
        for tree in sqlglot.parse(path.read_text(encoding="utf-8"), read=READ_DIALECT):
            assert tree is not None and not isinstance(tree, exp.Command), path
            body = tree.expression if path == SYNC_FOLDER / "norm.sql" and dialect != READ_DIALECT else tree
            written = body.sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE)
            back = sqlglot.parse_one(written, read=dialect)
            assert not isinstance(back, exp.Command), (path, written)
