"""Typed contact properties in the plan: the Mailjet datatype of an audience's column (from its SQL type,
DuckDB's or Postgres's), the datatype each property is compared by (its Mailjet definition's, as the
extract saw it, else its column's), the text a date-and-time column's value takes in the plan (RFC 3339,
UTC: `property_text.sql`) and the typed comparison of the audience's value with Mailjet's
(`property_keys.sql`), put in the statements as sqlglot expressions."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from dlt.destinations.exceptions import DatabaseException
from dlt.destinations.sql_client import SqlClientBase
from sqlglot import exp

from destinations.mailjet_lists.properties import DATATYPES, Datatype
from pipelines.models import render, statement

TEMPLATE = "p_0"  # the value the term files are written for
WHOLE = ("tinyint", "smallint", "integer", "bigint", "hugeint", "int", "utinyint", "usmallint", "uinteger")
WHOLE_MORE = ("ubigint", "uhugeint", "int2", "int4", "int8", "serial", "bigserial", "smallserial", "long")
FRACTIONAL = ("double", "float", "real", "float4", "float8")
DECIMAL = re.compile(r"^(decimal|numeric)\s*(\(\s*\d+\s*(,\s*(\d+)\s*)?\))?$")
KEYS: dict[Datatype, str | None] = {  # the term of property_keys.sql per datatype (None: as it is)
    "str": None,
    "int": "number",
    "float": "number",
    "bool": "bool",
    "datetime": "datetime",
}


def datatype_of(sql_type: str) -> Datatype:
    """The Mailjet datatype of a column of `sql_type` (as information_schema names it, DuckDB's or
    Postgres's): whole numbers `int` (a decimal without a scale too), other numbers `float`, booleans
    `bool`, timestamps and dates `datetime`, anything else `str`."""
    kind = sql_type.strip().lower()
    if kind in WHOLE or kind in WHOLE_MORE:
        return "int"
    if kind in FRACTIONAL or kind.startswith("double precision"):
        return "float"
    decimal = DECIMAL.match(kind)
    if decimal:
        return "int" if decimal.group(2) and int(decimal.group(4) or 0) == 0 else "float"
    if kind.startswith("bool"):
        return "bool"
    if kind.startswith(("timestamp", "date")) and not kind.startswith("datetime_"):
        return "datetime"
    return "str"


def is_zoned(sql_type: str) -> bool:
    """Whether a timestamp type carries its time zone."""
    kind = sql_type.strip().lower()
    return "with time zone" in kind or kind.startswith("timestamptz")


def column_datatypes(properties: Sequence[str], types: Mapping[str, str]) -> dict[str, Datatype]:
    """Each declared property's datatype from its column's SQL type (`types`: lowercase column -> type);
    `str` for a column the view does not yield."""
    return {p: datatype_of(types.get(p.lower(), "varchar")) for p in properties}


def mailjet_datatypes(client: SqlClientBase[Any], dialect: str) -> dict[str, Datatype]:
    """The datatype of each property Mailjet defines, as the extract saw it (lowercase name ->
    datatype); empty before any extract of the definitions."""
    try:
        rows = client.execute_sql(render("property_definitions", dialect))
    except DatabaseException:
        return {}
    return {str(name): str(kind) for name, kind in rows or [] if str(kind) in DATATYPES}  # type: ignore[misc]


def compared_as(
    properties: Sequence[str], columns: Mapping[str, Datatype], defined: Mapping[str, Datatype]
) -> tuple[Datatype, ...]:
    """The datatype each property is compared by: its Mailjet definition's, else its column's (the one
    apply creates it with)."""
    return tuple(defined.get(p.lower(), columns.get(p, "str")) for p in properties)


def _term(name: str, alias: str, value: exp.Expression) -> exp.Expression:
    """The term `alias` of the template file `name`, for `value` in place of `p_0`."""
    select = statement(name)
    assert isinstance(select, exp.Select)
    found = next(s for s in select.expressions if isinstance(s, exp.Alias) and s.alias == alias)
    term: exp.Expression = found.this.copy()
    for column in list(term.find_all(exp.Column)):
        if column.name == TEMPLATE:
            column.replace(value.copy())
    return term


def value_text(sql_type: str, value: exp.Expression) -> exp.Expression | None:
    """The text of a date-and-time column's `value` in the plan (RFC 3339, UTC); None for any other type
    (read as text)."""
    if datatype_of(sql_type) != "datetime":
        return None
    return _term("property_text", "zoned" if is_zoned(sql_type) else "naive", value)


def key(datatype: Datatype, value: exp.Expression) -> exp.Expression:
    """The key `value` (text) is compared by as `datatype` reads it."""
    alias = KEYS.get(datatype)
    return value if alias is None else _term("property_keys", alias, value)


def typed_comparison(term: exp.Expression, datatype: Datatype) -> exp.Expression:
    """`term` with each `x <> y` in it comparing the keys of x and y as `datatype` reads them."""
    for neq in list(term.find_all(exp.NEQ)):
        neq.replace(exp.NEQ(this=key(datatype, neq.this), expression=key(datatype, neq.expression)))
    return term
