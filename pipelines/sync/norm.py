"""`mailjet_sync.norm`, the one normalization of emails, permissions and consent words, defined in the
database: the macro of `pipelines/models/sync/norm.sql` where the engine has SQL macros (DuckDB, the
dialect every file is written in); elsewhere an SQL function of the same body, transpiled by sqlglot, for
text and, through text, for a value of any other type (a boolean `granted`, say), as the macro takes any."""

from __future__ import annotations

from sqlglot import exp

from pipelines.models import statement, to_sql

MACRO_DIALECTS = ("duckdb",)  # engines whose SQL has macros: the file's statement runs as it is
# An SQL function of the macro's body, immutable (it reads nothing but its argument), and its overload for
# any other type. Dollar quoting, as Postgres and Snowflake write a function's body.
FUNCTION = (
    "create or replace function {name}({parameter} text) returns text language sql immutable "
    "as $$ select {body} $$"
)
ANY_TYPE = (
    "create or replace function {name}({parameter} anyelement) returns text language sql immutable "
    "as $$ select {name}(cast({parameter} as text)) $$"
)


def norm_statements(dialect: str) -> list[str]:
    """The statements that (re)define `mailjet_sync.norm` in `dialect`."""
    macro = statement("norm")
    if dialect in MACRO_DIALECTS:
        return [to_sql(macro, dialect)]
    signature = macro.this
    assert isinstance(signature, exp.UserDefinedFunction) and isinstance(macro.expression, exp.Expression)
    (parameter,) = signature.expressions
    names = {
        "name": to_sql(signature.this, dialect),
        "parameter": to_sql(parameter, dialect),
        "body": to_sql(macro.expression, dialect),
    }
    return [FUNCTION.format(**names), ANY_TYPE.format(**names)]
