"""`mailjet_sync.norm(x)`, the one normalization (`sync/norm.sql`), put in place of each call: a statement
that calls it runs its expression, with the call's argument in the place of `x`. sqlglot writes that
expression for every engine, where it cannot write a macro or a function for each (DuckDB has macros,
Postgres and Snowflake functions of different bodies, BigQuery temporary ones), and DuckDB inlined its
macro the same way."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import cast

import sqlglot
from sqlglot import exp

NORM_FILE = Path(__file__).parent / "sync" / "norm.sql"
DATASET, NAME = "mailjet_sync", "norm"  # how statements call it: mailjet_sync.norm(x)
PARAMETER = "x"


@cache
def _body() -> exp.Expression:
    select = sqlglot.parse_one(NORM_FILE.read_text(encoding="utf-8"), read="duckdb")
    assert isinstance(select, exp.Select) and len(select.expressions) == 1
    projection = select.expressions[0]
    assert isinstance(projection, exp.Alias)
    return cast(exp.Expression, projection.this)


def norm_of(value: exp.Expression) -> exp.Expression:
    """The normalization of `value`, as an expression (`value` in the place of each `x`)."""
    if any(value.find_all(exp.Placeholder)):
        # The argument stands in several places: a bind parameter would take one value per place.
        raise ValueError("mailjet_sync.norm takes a column or an expression of columns, not a bind parameter")
    body = _body().copy()
    parameters = [c for c in body.find_all(exp.Column) if c.name == PARAMETER and not c.table]
    assert parameters
    for parameter in parameters:
        parameter.replace(value.copy())
    return body


def _argument(node: exp.Expr) -> exp.Expression | None:
    """The argument of a call `mailjet_sync.norm(argument)`; None for anything else."""
    if not isinstance(node, exp.Dot):
        return None
    dataset, call = node.this, node.expression
    if (
        isinstance(dataset, exp.Identifier | exp.Column)
        and dataset.name.lower() == DATASET
        and isinstance(call, exp.Anonymous)
        and str(call.this).lower() == NAME
        and len(call.expressions) == 1
    ):
        return cast(exp.Expression, call.expressions[0])
    return None


def expand_norm(tree: exp.Expr) -> exp.Expr:
    """`tree` with each call `mailjet_sync.norm(...)` replaced by the normalization of its argument
    (changed in place, and returned)."""
    calls = [node for node in tree.find_all(exp.Dot) if _argument(node) is not None]
    for call in reversed(calls):  # the innermost first: an argument may hold another call
        argument = _argument(call)
        assert argument is not None
        call.replace(norm_of(argument))
    return tree
