"""Typed properties in the plan: a column's Mailjet datatype from its SQL type, a date-and-time value's
text (RFC 3339, UTC), and the typed comparison of the audience's value with Mailjet's, run on an
in-memory DuckDB and transpiled for Postgres."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from destinations.mailjet_lists.properties import Datatype
from pipelines.sync.audience_sql import audience_sql
from pipelines.sync.audiences import Audience
from pipelines.sync.diff import DiffInput, updates_sql
from pipelines.sync.properties import compared_as, datatype_of, key, value_text

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("sql_type", "datatype"),
    [
        ("INTEGER", "int"),
        ("BIGINT", "int"),
        ("HUGEINT", "int"),
        ("smallint", "int"),
        ("DECIMAL(18,0)", "int"),
        ("DOUBLE", "float"),
        ("FLOAT", "float"),
        ("double precision", "float"),
        ("real", "float"),
        ("DECIMAL(10,2)", "float"),
        ("numeric", "float"),
        ("BOOLEAN", "bool"),
        ("boolean", "bool"),
        ("TIMESTAMP", "datetime"),
        ("TIMESTAMP WITH TIME ZONE", "datetime"),
        ("timestamp without time zone", "datetime"),
        ("DATE", "datetime"),
        ("VARCHAR", "str"),
        ("text", "str"),
        ("character varying", "str"),
        ("UUID", "str"),
    ],
)
def test_a_columns_sql_type_gives_its_mailjet_datatype(sql_type: str, datatype: str) -> None:
    assert datatype_of(sql_type) == datatype


def test_a_property_is_compared_as_its_mailjet_definition_else_its_column() -> None:
    columns: dict[str, Datatype] = {"Age": "int", "visits": "int", "city": "str"}
    assert compared_as(("Age", "visits", "city"), columns, {"visits": "float"}) == ("int", "float", "str")


def same(datatype: Datatype, ours: str | None, theirs: str | None) -> bool:
    """Whether the plan's comparison finds the two values equal (no update), on DuckDB."""
    term = exp.NEQ(this=key(datatype, exp.column("a")), expression=key(datatype, exp.column("b")))
    sql = f"select coalesce({term.sql('duckdb')}, false) from (values (?, ?)) as t (a, b)"
    [(differ,)] = duckdb.execute(sql, [ours, theirs]).fetchall()
    return not differ


@pytest.mark.parametrize(
    ("datatype", "ours", "theirs"),
    [
        pytest.param("int", "42", "42.0", id="42-vs-42.0"),
        pytest.param("float", "42.0", "42", id="42.0-vs-42"),
        pytest.param("float", "1e3", "1000", id="exponent"),
        pytest.param("bool", "true", "True", id="true-vs-True"),
        pytest.param("bool", "false", "0", id="false-vs-0"),
        pytest.param("datetime", "2024-01-01T10:00:00Z", "2024-01-01 10:00:00", id="rfc3339-vs-duckdb-text"),
        pytest.param("datetime", "2024-01-01T10:00:00Z", "2024-01-01T12:00:00+02:00", id="offset"),
        pytest.param("datetime", "2024-01-01T10:00:00Z", "1704103200", id="unix-seconds"),
        pytest.param("str", "Ann", "Ann", id="text"),
    ],
)
def test_one_value_in_two_spellings_is_no_change(datatype: Datatype, ours: str, theirs: str) -> None:
    assert same(datatype, ours, theirs)


@pytest.mark.parametrize(
    ("datatype", "ours", "theirs"),
    [
        pytest.param("int", "42", "41", id="another-number"),
        pytest.param("int", "abc", "42", id="text-in-a-number"),
        pytest.param("bool", "true", "false", id="another-bool"),
        pytest.param("datetime", "2024-01-01T10:00:00Z", "2024-01-01T10:00:01Z", id="another-second"),
        pytest.param("str", "42.0", "42", id="text-is-text"),
        pytest.param("str", "Ann", "ann", id="text-case"),
    ],
)
def test_another_value_is_a_change(datatype: Datatype, ours: str, theirs: str) -> None:
    assert not same(datatype, ours, theirs)


@pytest.mark.parametrize(
    ("sql_type", "literal", "text"),
    [
        ("timestamp", "timestamp '2024-01-01 10:00:00.9'", "2024-01-01T10:00:00Z"),
        ("timestamp with time zone", "timestamptz '2024-01-01 12:00:00+02'", "2024-01-01T10:00:00Z"),
        ("date", "date '2024-01-01'", "2024-01-01T00:00:00Z"),
    ],
)
def test_a_date_and_time_is_written_in_the_plan_as_rfc3339_utc(
    sql_type: str, literal: str, text: str
) -> None:
    term = value_text(sql_type, sqlglot.parse_one(literal, read="duckdb"))
    assert term is not None and value_text("integer", exp.column("x")) is None
    con = duckdb.connect()
    con.execute("set TimeZone = 'America/New_York'")  # the session's zone changes nothing
    assert con.execute(f"select {term.sql('duckdb')}").fetchall() == [(text,)]


def test_the_audience_reads_a_timestamp_column_as_rfc3339_and_others_as_text() -> None:
    view = "create or replace view audience_news as select email, joined_at, age from crm.profiles"
    item = Audience("news", "1", "remove", ("joined_at", "age"), view, 1)
    sql = audience_sql(
        item, ["email", "joined_at", "age"], "duckdb", {"joined_at": "timestamp", "age": "integer"}
    )
    assert sql.count("DATE_TRUNC") == 1 and " AS p_0" in sql and " AS p_1" in sql


@pytest.mark.parametrize("dialect", ["duckdb", "postgres"])
def test_the_update_compares_each_property_as_its_datatype(dialect: str) -> None:
    d = DiffInput(
        1, "news", 10, 10, None, "remove", ("age", "vip", "city"), True, dialect, None, ("int", "bool", "str")
    )
    sql = updates_sql(d)
    sqlglot.parse_one(sql, read=dialect)
    assert "DOUBLE" in sql and "'true'" in sql and "a.p_2 <> c.p_2" in sql
