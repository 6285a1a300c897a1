"""The one normalization on PostgreSQL: the values tests/sync/test_models.py normalizes on DuckDB give the
same on a real PostgreSQL, through the expression written for it (the fast path for printable ASCII, and
the translation of every Unicode blank)."""

from __future__ import annotations

import psycopg2
import sqlglot

from pipelines.models import to_sql
from pipelines.models.norm import expand_norm
from tests.postgres.conftest import Database
from tests.sync.test_models import NORM_OF_VALUE, NORMALIZED


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
