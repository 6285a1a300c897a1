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
    """The expression of `norm.sql`, its characters written as literals (`_characters`)."""
    select = sqlglot.parse_one(NORM_FILE.read_text(encoding="utf-8"), read="duckdb")
    assert isinstance(select, exp.Select) and len(select.expressions) == 1
    projection = select.expressions[0]
    assert isinstance(projection, exp.Alias)
    return _characters(cast(exp.Expression, projection.this))


def _characters(tree: exp.Expression) -> exp.Expression:
    """`tree` with each `chr(n)`, and each `||` of such characters, written as one string literal of
    them: engines do not agree on `chr` beyond 255 (Databricks takes n modulo 256, so `chr(8232)` would
    be a `(`), while every engine reads a literal's characters as they are."""

    def fold(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Chr) and len(node.expressions) == 1:
            (code,) = node.expressions
            if isinstance(code, exp.Literal) and not code.is_string:
                return exp.Literal.string(chr(int(code.this)))
        if isinstance(node, exp.DPipe):
            left, right = node.this, node.expression
            if all(isinstance(side, exp.Literal) and side.is_string for side in (left, right)):
                return exp.Literal.string(str(left.this) + str(right.this))
        return node

    folded = tree.transform(fold)
    while (again := folded.transform(fold)) != folded:  # a chain of `||` folds one link per pass
        folded = again
    return folded


def norm_of(value: exp.Expression) -> exp.Expression:
    """The normalization of `value`, as an expression (`value` in the place of `x`). A column is only
    lowercased when it has no blank to replace and no space to trim (`_only_when_blank`); any other
    argument (a parameter, an expression) is read once, as `norm.sql` writes it."""
    body = _body().copy()
    (parameter,) = [c for c in body.find_all(exp.Column) if c.name == PARAMETER and not c.table]
    parameter.replace(value.copy())
    return _only_when_blank(body) if isinstance(value, exp.Column) else body


def _only_when_blank(normalized: exp.Expression) -> exp.Expression:
    """`case when <value> = '' then null when <a blank anywhere, or a space at an end> then <normalized>
    else lower(<value>) end`: the same value (nothing else is trimmed or replaced, and only an empty value
    lowercases to nothing), for a third of the work per address on DuckDB, where the test is cheap and
    almost no value has a blank; the whole expression is read once (`nullif` would compute it twice).
    A column only: the value is read more than once."""
    (replacement,) = list(normalized.find_all(exp.RegexpReplace))
    value, blanks = replacement.this, replacement.expression
    changed = exp.RegexpLike(this=value.copy(), expression=exp.Literal.string(f"^ | $|{blanks.this}"))
    empty = exp.EQ(this=value.copy(), expression=exp.Literal.string(""))
    return exp.Case(
        ifs=[exp.If(this=empty, true=exp.Null()), exp.If(this=changed, true=normalized)],
        default=exp.Lower(this=value.copy()),
    )


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


def _matched_value(comparison: exp.EQ) -> tuple[exp.Expression, exp.Expression] | None:
    """(the column, the value) of `mailjet_sync.norm(column) = value`, a value that reads no column (a
    parameter, a literal, or either normalized); None for any other comparison."""
    for side, other in ((comparison.this, comparison.expression), (comparison.expression, comparison.this)):
        argument = _argument(side)
        if isinstance(argument, exp.Column) and not any(True for _ in other.find_all(exp.Column)):
            return argument, other
    return None


def _with_prefilter(comparison: exp.EQ, column: exp.Expression, value: exp.Expression) -> exp.Expression:
    """`(strpos(value, ' ') > 0 or strpos(lower(column), value) > 0) and <comparison>`: the same rows. A
    value without a space can only be the normalization of a column whose lowercase holds it (the
    normalization trims blanks at the ends and lowercases; a blank inside would be a space), so the cheap
    test comes first and the normalization is computed only where it passes: a fifth of the CPU when one
    address is looked up among a million (explain)."""
    spaced = exp.GT(
        this=exp.StrPosition(this=value.copy(), substr=exp.Literal.string(" ")),
        expression=exp.Literal.number(0),
    )
    held = exp.GT(
        this=exp.StrPosition(
            this=exp.Lower(this=exp.cast(column.copy(), exp.DataType.build("text"))), substr=value.copy()
        ),
        expression=exp.Literal.number(0),
    )
    return exp.And(this=exp.paren(exp.or_(spaced, held)), expression=comparison.copy())


def expand_norm(tree: exp.Expr) -> exp.Expr:
    """`tree` with each call `mailjet_sync.norm(...)` replaced by the normalization of its argument
    (changed in place, and returned). A comparison of a column's normalization with a value that reads no
    column (`mailjet_sync.norm(c.email) = mailjet_sync.norm(?)`) first tests that the column's lowercase
    holds the value (`_with_prefilter`)."""
    for comparison in list(tree.find_all(exp.EQ)):
        matched = _matched_value(comparison)
        if matched is not None:
            comparison.replace(exp.paren(_with_prefilter(comparison, *matched)))
    calls = [node for node in tree.find_all(exp.Dot) if _argument(node) is not None]
    for call in reversed(calls):  # the innermost first: an argument may hold another call
        argument = _argument(call)
        assert argument is not None
        call.replace(norm_of(argument))
    return tree
