"""An audience's rows as the plan reads them, in SQL: `_aud` (every row of the audience's query, its
address as given and normalized, its declared properties as text) and the frame the data tests read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlglot import exp

from pipelines.models import replace_tables, statement, to_sql
from pipelines.sync.audiences import Audience
from pipelines.sync.ledger import CONSENT_SNAPSHOT
from pipelines.sync.properties import value_text
from pipelines.sync.tables import SYNC_DATASET
from pipelines.sync.views import view_query


def present_properties(item: Audience, columns: Sequence[str]) -> list[tuple[int, str]]:
    """(index among the declared properties, the view's column) of each declared property it yields."""
    by_lower = {c.lower(): c for c in columns}
    return [(i, by_lower[p.lower()]) for i, p in enumerate(item.properties) if p.lower() in by_lower]


def audience_sql(
    item: Audience, columns: Sequence[str], dialect: str, types: Mapping[str, str] | None = None
) -> str:
    """The `create temporary table _aud` of an audience whose view yields `columns` (of `types`: lowercase
    column -> SQL type; a date-and-time property's value as RFC 3339 in UTC, any other as text). The rows
    are read by the view's query, its `consent_current` read from the run's copy (`CONSENT_SNAPSHOT`)."""
    email = next(c for c in columns if c.lower() == "email")
    tree = statement("audience_rows")
    select = tree.expression
    assert isinstance(select, exp.Select)
    *fixed, template = select.expressions
    for column in select.find_all(exp.Column):  # the statement's own, before the view's query goes in
        if column.name == "email":
            column.set("this", exp.to_identifier(email, quoted=True))
    rows = view_query(item, {f"{SYNC_DATASET}.consent_current": CONSENT_SNAPSHOT})
    replace_tables(tree, {"mailjet_sync.audience": rows})
    picks = []
    for i, name in present_properties(item, columns):
        pick = template.copy()
        for column in pick.find_all(exp.Column):
            column.set("this", exp.to_identifier(name, quoted=True))
        typed = value_text((types or {}).get(name.lower(), "varchar"), exp.column(name, quoted=True))
        if typed is not None:
            pick.set("this", typed)
        pick.set("alias", exp.to_identifier(f"p_{i}"))
        picks.append(pick)
    select.set("expressions", [*fixed, *picks])
    return to_sql(tree, dialect)


def frame_sql(item: Audience, columns: Sequence[str], dialect: str) -> str:
    """The audience as the data tests read it: email, then each declared property under its name."""
    tree = statement("audience_frame")
    assert isinstance(tree, exp.Select)
    email, template = tree.expressions
    picks = []
    for i, _ in present_properties(item, columns):
        pick = template.copy()
        pick.this.set("this", exp.to_identifier(f"p_{i}"))
        pick.set("alias", exp.to_identifier(item.properties[i], quoted=True))
        picks.append(pick)
    tree.set("expressions", [email, *picks])
    return to_sql(tree, dialect)
