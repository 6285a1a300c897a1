"""How a statement is written for an engine: sqlglot's generator of the engine's dialect, taught the one
expression of the project that sqlglot has no portable rendering for (a JSON object without its null
values: DuckDB ignores `absent on null`, and sqlglot writes Snowflake's object keeping nulls), and two
readings sqlglot gets wrong: DuckDB's global `regexp_replace(x, pattern, replacement, 'g')` is written as
the engine's own global replacement (Snowflake would read the 'g' as a position), and a test for a match
anywhere in a value (`regexp_matches`) as Snowflake's position of a match (its `regexp_like` matches the
whole value).

Each engine's rendering is data, keyed by sqlglot's dialect name (from dlt's capabilities, never a
destination's module name); a dialect without one is reported as unsupported (the dialect test raises)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel
from sqlglot.generator import Generator


class JSONObjectWithoutNulls(exp.Expression, exp.Func):
    """A JSON object, as text, of name/value pairs (`expressions`: name, value, name, value...), the pairs
    whose value is null left out."""

    arg_types = {"expressions": True}
    is_var_len_args = True


Rendering = Callable[[list[exp.Expression]], exp.Expression]


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _text(tree: exp.Expression) -> exp.Expression:
    return exp.cast(tree, exp.DataType.build("text"))


# name/value pairs -> the engine's JSON object without nulls, as text.
RENDERINGS: dict[str, Rendering] = {
    # DuckDB: a merge patch into an empty object drops the null members.
    "duckdb": lambda a: _text(_call("json_merge_patch", exp.Literal.string("{}"), _call("json_object", *a))),
    "postgres": lambda a: _text(_call("json_strip_nulls", _call("json_build_object", *a))),
    "bigquery": lambda a: _call("to_json_string", _call("json_strip_nulls", _call("json_object", *a))),
    # Snowflake's object_construct leaves out null values; Spark's to_json leaves out null fields.
    "snowflake": lambda a: _call("to_json", _call("object_construct", *a)),
    "databricks": lambda a: _call("to_json", _call("named_struct", *a)),
}


# Engines whose regexp_replace replaces every match, with no flag to say so (DuckDB and PostgreSQL replace
# the first unless given 'g').
REPLACES_EVERY_MATCH = frozenset({"snowflake", "bigquery", "databricks"})


def _every_match(node: exp.Expr) -> exp.Expr:
    """A global `regexp_replace` (flag 'g', nothing else) without its flag."""
    modifiers = node.args.get("modifiers") if isinstance(node, exp.RegexpReplace) else None
    flagged = isinstance(modifiers, exp.Literal) and modifiers.this == "g"
    if not flagged or any(node.args.get(k) for k in ("position", "occurrence")):
        return node
    replaced = node.copy()
    replaced.set("modifiers", None)
    replaced.set("single_replace", None)
    return replaced


# Engines whose `regexp_like` matches the whole value (Snowflake's): a test whether a value holds a match
# anywhere (DuckDB's `regexp_matches`, PostgreSQL's `~`) is written there as the position of a match.
MATCHES_WHOLE_VALUE = frozenset({"snowflake"})


def _anywhere(node: exp.Expr) -> exp.Expr:
    """`regexp_like(x, pattern)` as `regexp_instr(x, pattern) > 0`: true when a match is anywhere in x."""
    if not isinstance(node, exp.RegexpLike) or node.args.get("flag"):
        return node
    position = _call("regexp_instr", node.this.copy(), node.expression.copy())
    return exp.GT(this=position, expression=exp.Literal.number(0))


def _render(dialect: str) -> Callable[[Generator, JSONObjectWithoutNulls], str]:
    rendering = RENDERINGS.get(dialect)

    def render(generator: Generator, expression: JSONObjectWithoutNulls) -> str:
        if rendering is None:
            generator.unsupported(f"a JSON object without nulls has no rendering for {dialect}")
            return generator.function_fallback_sql(expression)
        return generator.sql(rendering([e.copy() for e in expression.expressions]))

    return render


@cache
def _generator(dialect: str) -> type[Generator]:
    base = Dialect.get_or_raise(dialect).generator_class
    transforms = {**base.TRANSFORMS, JSONObjectWithoutNulls: _render(dialect)}
    return type(f"{base.__name__}OfModels", (base,), {"TRANSFORMS": transforms})


def write(
    tree: exp.Expr, dialect: str, comments: bool = True, unsupported_level: ErrorLevel = ErrorLevel.WARN
) -> str:
    """`tree` as `dialect` writes it (sqlglot's options: comments kept, an unsupported construct warned
    of or raised)."""
    generator = _generator(dialect)(
        dialect=Dialect.get_or_raise(dialect), comments=comments, unsupported_level=unsupported_level
    )
    if dialect in REPLACES_EVERY_MATCH:
        tree = tree.transform(_every_match)
    if dialect in MATCHES_WHOLE_VALUE:
        tree = tree.transform(_anywhere)
    return generator.generate(tree, copy=True)
