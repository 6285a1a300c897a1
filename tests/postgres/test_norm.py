"""The one normalization on PostgreSQL: the values tests/sync/test_models.py normalizes on DuckDB give the
same on a real PostgreSQL, through the expression written for it, and so do fuzzed values (against the
reference normalization in Python)."""

from __future__ import annotations

import psycopg2
import sqlglot

from pipelines.models import to_sql
from pipelines.models.norm import expand_norm
from tests.postgres.conftest import Database
from tests.sync.test_models import NORM_OF_VALUE, NORMALIZED, fuzzed_values, reference_norm


def test_every_value_normalizes_on_postgres_as_on_duckdb(postgres: Database) -> None:
    query = to_sql(expand_norm(sqlglot.parse_one(NORM_OF_VALUE, read="duckdb")), "postgres")
    connection = psycopg2.connect(postgres.url)
    try:
        with connection.cursor() as cursor:
            for case in NORMALIZED:
                given, normal = case.values
                cursor.execute(query, [given])
                assert cursor.fetchone() == (normal,), case.id
    finally:
        connection.close()


def test_fuzzed_values_normalize_on_postgres_as_the_reference(postgres: Database) -> None:
    values = fuzzed_values(5_000, seed=11)
    sql = "select v, mailjet_sync.norm(v) from unnest(cast(? as text[])) as t (v)"
    query = to_sql(expand_norm(sqlglot.parse_one(sql, read="duckdb")), "postgres")
    connection = psycopg2.connect(postgres.url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(query, [values])
            wrong = [(v, got) for v, got in cursor.fetchall() if got != reference_norm(v)]
    finally:
        connection.close()
    assert not wrong, wrong[:5]
