"""What the SQL becomes on Postgres, from the statements alone: the normalization as an SQL function, and
the stand-ins of tables not loaded yet typed as dlt will create the tables."""

from __future__ import annotations

import pytest
import sqlglot

from pipelines.models import empty_relation, to_sql
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
