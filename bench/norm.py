"""Benchmark of the one normalization (`mailjet_sync.norm`, pipelines/models/sync/norm.sql) on DuckDB and
PostgreSQL: the expression as shipped against the translation of every Unicode blank alone (the same
result, without the check that lets printable ASCII skip it), over generated addresses (one in twenty with
a no-break space or a tab at an end). Prints the best of three, per engine; asserts nothing but that both
give the same values.

    .venv/bin/python bench/norm.py                  # 1,000,000 addresses on DuckDB, 100,000 on PostgreSQL
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import psycopg2
from sqlglot import exp
from warehouses import start_postgres

from pipelines.models import to_sql
from pipelines.models.norm import norm_of

# The generated addresses, in each engine's own SQL (the benchmark's, not the product's).
ENDS = "case when i % 20 = 0 then chr(160) when i % 20 = 1 then chr(9) else '' end"
DUCKDB_ROWS = f"select 'User' || i || '@Example.com' || {ENDS} as email from range(?) r(i)"
POSTGRES_ROWS = f"select 'User' || i || '@Example.com' || {ENDS.replace('%', '%%')} as email "
POSTGRES_ROWS += "from generate_series(0, %s - 1) r(i)"


def translation_alone(value: exp.Expression) -> exp.Expression:
    """The shipped expression with its `case` replaced by its `else` branch: every value translated."""
    body = norm_of(value)
    case = next(body.find_all(exp.Case))
    case.replace(case.args["default"].copy())
    return body


def best_of_three(run: Callable[[], object]) -> float:
    times = []
    for _ in range(3):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="addresses on DuckDB")
    parser.add_argument("--pg-rows", type=int, default=100_000, help="addresses on PostgreSQL")
    args = parser.parse_args()
    column = exp.column("email")
    shipped, alone = norm_of(column), translation_alone(column)

    con = duckdb.connect()
    con.execute(f"create table t as {DUCKDB_ROWS}", [args.rows])
    sums = {}
    for name, expression in (("shipped", shipped), ("translation alone", alone)):
        query = f"select sum(hash({to_sql(expression, 'duckdb')})) from t"
        sums[name] = con.execute(query).fetchone()
        seconds = best_of_three(lambda q=query: con.execute(q).fetchall())
        print(f"DuckDB      {args.rows:>9,} addresses  {name:<18} {seconds * 1000:7.0f} ms")
    assert sums["shipped"] == sums["translation alone"], sums

    with tempfile.TemporaryDirectory(prefix="bench-norm-") as tmp:
        pg = start_postgres(Path(tmp) / "pg")
        try:
            connection = psycopg2.connect(pg.url)
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f"create table t as {POSTGRES_ROWS}", [args.pg_rows])
                values = {}
                for name, expression in (("shipped", shipped), ("translation alone", alone)):
                    query = (
                        f"select md5(string_agg({to_sql(expression, 'postgres')}, ',' order by email)) from t"
                    )
                    cursor.execute(query)
                    values[name] = cursor.fetchone()
                    seconds = best_of_three(lambda q=query: cursor.execute(q))
                    print(f"PostgreSQL  {args.pg_rows:>9,} addresses  {name:<18} {seconds * 1000:7.0f} ms")
                assert values["shipped"] == values["translation alone"], values
            connection.close()
        finally:
            pg.server.cleanup()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
