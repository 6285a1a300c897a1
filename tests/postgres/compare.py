"""Every table and view of a database as plain, comparable rows: read from DuckDB or Postgres, each value
normalised so that the same data reads the same on both (timestamps in UTC, numbers as int or float, JSON
parsed), the rows sorted."""

from __future__ import annotations

import json
import math
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import duckdb
import psycopg2

Rows = list[tuple[Any, ...]]
Relation = tuple[list[str], Rows]  # columns, sorted rows
Query = Callable[[str], tuple[list[str], Rows]]
Mask = Callable[[str, Any], Any]  # (column, normalised value) -> the value compared

LISTED = (
    "select table_schema, table_name from information_schema.tables where table_schema in ({schemas}) "
    "and table_name not like '\\_dlt%' escape '\\' order by 1, 2"
)


class Reader:
    """One connection to a database, kept for many queries; `query` runs one and returns its columns and
    rows."""

    def __init__(self, connect: Callable[[], Any]) -> None:
        self._connect = connect
        self._connection: Any = None

    def query(self, sql: str) -> tuple[list[str], Rows]:
        if self._connection is None:
            self._connection = self._connect()
        cursor = self._connection.cursor()
        try:
            cursor.execute(sql)
            return [d[0] for d in cursor.description or []], list(cursor.fetchall())
        finally:
            cursor.close()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def duckdb_reader(path: str) -> Reader:
    return Reader(lambda: duckdb.connect(path, read_only=True))


def postgres_reader(url: str) -> Reader:
    def connect() -> Any:
        connection = psycopg2.connect(url)
        connection.autocommit = True
        return connection

    return Reader(connect)


def normal(value: Any) -> Any:
    """A value as both engines' drivers should agree on it: zoned timestamps in UTC, every number as an
    int when it is whole (else a float), JSON (a dict, a list, or text holding an object or array) as its
    canonical text, UUIDs and bytes as text."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _canonical(json.loads(value)) if _json_text(value) else value
    if isinstance(value, (dict, list)):
        return _canonical(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo is not None else value
    if isinstance(value, Decimal):
        value = int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    return value


def _json_text(text: str) -> bool:
    stripped = text.strip()
    if not (stripped.startswith(("{", "[")) and stripped.endswith(("}", "]"))):
        return False
    try:
        json.loads(stripped)
    except ValueError:
        return False
    return True


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _sort_key(row: tuple[Any, ...]) -> tuple[tuple[int, str], ...]:
    return tuple((0, "") if v is None else (1, f"{type(v).__name__}:{v!r}") for v in row)


def relation(query: Query, name: str, excluded: Iterable[str] = (), mask: Mask | None = None) -> Relation:
    """The rows of `name`, every column but `excluded`, normalised (then passed through `mask`) and
    sorted."""
    columns, rows = query(f"select * from {name}")
    keep = [i for i, c in enumerate(columns) if c not in set(excluded)]
    masked = mask or (lambda column, value: value)
    normalised = [tuple(masked(columns[i], normal(row[i])) for i in keep) for row in rows]
    return [columns[i] for i in keep], sorted(normalised, key=_sort_key)


def relations(query: Query, schemas: Iterable[str]) -> list[str]:
    """`schema.name` of every table and view of `schemas` (dlt's own `_dlt_*` tables left out)."""
    listed = ", ".join(f"'{s}'" for s in schemas)
    _, rows = query(LISTED.format(schemas=listed))
    return [f"{s}.{t}" for s, t in rows]


def differences(left: Relation, right: Relation, shown: int = 3) -> list[str]:
    """What differs between two relations: their columns, or rows found on one side only (a few each)."""
    if left[0] != right[0]:
        return [f"columns {left[0]} != {right[0]}"]
    only_left = _minus(left[1], right[1])
    only_right = _minus(right[1], left[1])
    found = []
    if only_left or only_right:
        columns = [
            c
            for i, c in enumerate(left[0])
            if Counter(r[i] for r in left[1]) != Counter(r[i] for r in right[1])
        ]
        found.append(f"{len(left[1])} rows != {len(right[1])} rows; the columns that differ: {columns}")
        found += [f"only duckdb: {dict(zip(left[0], row, strict=True))}" for row in only_left[:shown]]
        found += [f"only postgres: {dict(zip(right[0], row, strict=True))}" for row in only_right[:shown]]
    return found


def _minus(rows: Rows, other: Rows) -> Rows:
    """The rows of `rows` that `other` lacks (as many times as they lack)."""
    return sorted((Counter(rows) - Counter(other)).elements(), key=_sort_key)
