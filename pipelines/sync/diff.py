"""The diff of one audience against its Mailjet list, in SQL on the destination's engine (DuckDB by
default), each statement a file of `pipelines/models/sync/` (`diff_*.sql`, `plan_*.sql`).

Inputs, as temporary tables of one connection: `_aud` (the audience: row_no, email_given, email trimmed
and lowercased, rejected by a data test, then its properties as text, p_0..p_n), built by the caller;
then built here: `_consent` (the latest consent event per email for the list's permission, and where it
comes from, naming the list of an event drawn from one), `_members`
(the list's members, by email: Mailjet's memberships, the unsubscribes imported files state, and the
unsubscriptions of the durable record Mailjet no longer shows, all of which keep those people off the
list; a file's "subscribed" is no proof of a live membership), `_managed` (whom this audience added
to the list, from `sync_snapshot`), `_suppressed` (excluded from campaigns, spam complainers, hard
bounces), `_current` (the members' property values in Mailjet), `_state` (each row of
the audience beside all that) and `_presence` (per email).

The rules (design §7), the rows of `sync_plan`:
- `addnoforce` (joined_audience): in the audience, passed the data tests, not a member of the list, not
  suppressed, and, when the list needs a permission, whose latest consent event is a grant. Never anyone
  unsubscribed from the list: they are held back (`sync_rejections`, stage plan) with the reason.
- `unsub` (consent_withdrawn): any subscribed member whose latest consent event for the permission is a
  withdrawal no older than their subscription, whoever added them: it is the person's wish. (For a member
  the sync added, the subscription is the sync's act, not the person's: their latest event decides.)
- `on_exit` (remove or unsub; left_audience, or the suppression that took them out): only members this
  audience added (`sync_snapshot`), still subscribed, no longer in it with consent intact; never when the
  audience is empty, never for a row that failed a data test (that person's state is unknown).
- `update` (properties_changed): subscribed members in the audience whose declared properties differ
  from Mailjet's, compared as the property's Mailjet datatype reads them (`42.0` and `42`, `true` and
  `True`, one instant in two spellings are equal: pipelines/sync/properties.py); a null value is never
  pushed (nothing in Mailjet is erased by accident).

The per-property terms (`p_0`..`p_n`) are written once in the files, for `p_0`, and repeated here for
each declared property as sqlglot expressions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dlt.destinations.sql_client import SqlClientBase
from sqlglot import exp

from destinations.mailjet_lists.properties import Datatype
from pipelines.models import Relation, empty_relation, render, statement, to_sql
from pipelines.models.written import JSONObjectWithoutNulls
from pipelines.sync.audiences import OnExit
from pipelines.sync.ledger import columns_of
from pipelines.sync.properties import typed_comparison
from pipelines.warehouse.datasets import API_DATASET

TEMP_TABLES = ("_consent", "_members", "_managed", "_suppressed", "_current", "_state", "_presence")
TEMPLATE = "p_0"  # the property the files are written for


@dataclass(frozen=True)
class DiffInput:
    """What the diff of one audience run needs besides its `_aud` table."""

    run_id: int
    audience: str
    list_id: int | None  # Mailjet's list; None while it does not exist
    member_list_id: int | None  # whose memberships count: Mailjet's list, else one known from files
    permission: str | None
    on_exit: OnExit
    properties: tuple[str, ...]
    exits_allowed: bool  # False when the audience is empty: nobody leaves an empty audience
    dialect: str = "duckdb"
    as_of: datetime | None = None  # when the Mailjet data was extracted (memberships it shows are that old)
    datatypes: tuple[Datatype, ...] = ()  # what each property is compared as (default: text)

    def datatype(self, index: int) -> Datatype:
        """The Mailjet datatype the `index`-th property is compared as."""
        return self.datatypes[index] if index < len(self.datatypes) else "str"

    @property
    def plans_exits(self) -> bool:
        """Whether members who left are planned to leave the list (`on_exit`)."""
        return self.on_exit != "keep" and self.exits_allowed


def for_property(template: exp.Expression, index: int, name: str) -> exp.Expression:
    """A copy of a term written for the first property (columns `p_0`, the name `'p_0'`) for the
    property `name`, the `index`-th declared."""
    term = template.copy()
    for column in term.find_all(exp.Column):
        if column.name == TEMPLATE:
            column.set("this", exp.to_identifier(f"p_{index}"))
    for literal in term.find_all(exp.Literal):
        if literal.is_string and literal.this == TEMPLATE:
            literal.replace(exp.Literal.string(name))
    return term


def _projection(select: exp.Select, alias: str) -> exp.Alias:
    found = next(s for s in select.expressions if isinstance(s, exp.Alias) and s.alias == alias)
    assert isinstance(found, exp.Alias)
    return found


def _final(tree: exp.Expression) -> exp.Select:
    """The `final` CTE of a statement written the house way."""
    cte = next(c for c in tree.find_all(exp.CTE) if c.alias == "final")
    assert isinstance(cte.this, exp.Select)
    return cte.this


def json_without_nulls(pairs: Sequence[tuple[str, exp.Expression]]) -> exp.Expression:
    """A JSON object (as text) of the non-null values among `pairs` (name, value); null without pairs."""
    if not pairs:
        return exp.cast(exp.null(), "varchar")
    args: list[exp.Expression] = []
    for name, value in pairs:
        args += [exp.Literal.string(name), value]
    return JSONObjectWithoutNulls(expressions=args)  # written per engine: pipelines/models/written.py


def drop_sql(name: str, dialect: str) -> str:
    """The `drop table if exists` of a temporary table."""
    return render("drop_temporary", dialect, {"_temporary": name})


def events_relation(columns: Sequence[str]) -> Relation:
    """mailjet_api.events as `_suppressed` reads it: as it is; without the `hard_bounce` column, with a
    null one; an empty relation until webhook events are received."""
    needed = {"event": "varchar", "email": "varchar", "hard_bounce": "boolean"}
    if not {"event", "email"} <= set(columns):
        return empty_relation(needed)
    if "hard_bounce" in columns:
        return f"{API_DATASET}.events"
    return exp.select("event", "email", exp.cast(exp.null(), "boolean").as_("hard_bounce")).from_(
        f"{API_DATASET}.events"
    )


def current_sql(d: DiffInput) -> str:
    """The `create temporary table _current`: one column per declared property."""
    tree = statement("diff_current")
    select = tree.expression
    assert isinstance(select, exp.Select)
    template = _projection(select, TEMPLATE)
    picks = []
    for i, name in enumerate(d.properties):
        pick = for_property(template, i, name.lower())
        pick.set("alias", exp.to_identifier(f"p_{i}"))
        picks.append(pick)
    select.set("expressions", [e for e in select.expressions if e is not template] + picks)
    return to_sql(tree, d.dialect)


def state_sql(d: DiffInput) -> str:
    """The `create temporary table _state`, followed by the audience's property columns."""
    tree = statement("diff_state")
    select = tree.expression
    assert isinstance(select, exp.Select)
    select.select(*(exp.column(f"p_{i}", "a") for i in range(len(d.properties))), copy=False)
    return to_sql(tree, d.dialect)


def build_inputs(client: SqlClientBase[Any], d: DiffInput) -> None:
    """Create the temporary input tables of the diff (dropping those of an earlier audience)."""
    for name in TEMP_TABLES:
        client.execute_sql(drop_sql(name, d.dialect))
    client.execute_sql(render("diff_consent", d.dialect), d.permission)
    client.execute_sql(render("diff_members", d.dialect), d.member_list_id)
    if d.list_id is not None and d.as_of is not None:  # memberships changed outside the sync: not its own
        for name in ("snapshot_observe", "snapshot_release"):
            client.execute_sql(render(name, d.dialect), d.audience, d.list_id, d.as_of.isoformat())
    client.execute_sql(render("diff_managed", d.dialect), d.audience, d.list_id)
    events = columns_of(client, API_DATASET, "events")
    client.execute_sql(
        render("diff_suppressed", d.dialect, {f"{API_DATASET}.events": events_relation(list(events))})
    )
    if d.properties:
        client.execute_sql(current_sql(d))
    client.execute_sql(state_sql(d), d.permission)
    client.execute_sql(render("diff_presence", d.dialect))


def changes_sql(d: DiffInput) -> str:
    """The INSERT of the run's adds, unsubs and exits (`plan_changes.sql`), the properties to push on an
    add as a JSON object."""
    tree = statement("plan_changes")
    adds = next(c for c in tree.find_all(exp.CTE) if c.alias == "adds").this
    assert isinstance(adds, exp.Select)
    pairs = [(p, exp.column(f"p_{i}", "a")) for i, p in enumerate(d.properties)]
    _projection(adds, "properties").set("this", json_without_nulls(pairs))
    return to_sql(tree, d.dialect)


def changes_args(d: DiffInput) -> list[Any]:
    """The bind parameters of `changes_sql`."""
    return [d.run_id, d.audience, d.list_id, d.permission, d.on_exit, d.plans_exits]


def updates_sql(d: DiffInput) -> str:
    """The INSERT of the run's `update` rows (`plan_updates.sql`), its terms repeated per property."""
    tree = statement("plan_updates")
    final = _final(tree)
    where = final.args["where"].this
    assert isinstance(where, exp.And)
    changed = where.expression  # the last condition: the first property changed
    evidence = _projection(final, "evidence").this
    terms = [(i, p) for i, p in enumerate(d.properties)]
    flags = [typed_comparison(for_property(changed, i, p), d.datatype(i)) for i, p in terms]
    parts = [for_property(evidence, i, p) for i, p in terms]
    joined: exp.Expression = parts[0]
    for part in parts[1:]:
        joined = exp.DPipe(this=joined, expression=part)
    _projection(final, "evidence").set("this", joined)
    pushed = [
        (p, exp.Case(ifs=[exp.If(this=flag.copy(), true=exp.column(f"p_{i}", "a"))]))
        for (i, p), flag in zip(terms, flags, strict=True)
    ]
    _projection(final, "properties").set("this", json_without_nulls(pushed))
    any_changed: exp.Expression = exp.paren(exp.or_(*flags)) if len(flags) > 1 else flags[0]
    where.set("expression", any_changed)
    return to_sql(tree, d.dialect)


def insert_plan(client: SqlClientBase[Any], d: DiffInput) -> None:
    """Write the run's `sync_plan` rows."""
    client.execute_sql(changes_sql(d), *changes_args(d))
    if d.properties:
        client.execute_sql(updates_sql(d), d.run_id, d.audience, d.list_id)


def insert_held(client: SqlClientBase[Any], d: DiffInput, now: datetime) -> None:
    """Write the `sync_rejections` rows of the people held back: in the audience, but not to be added
    (unsubscribed from the list, suppressed, or without consent)."""
    client.execute_sql(
        render("plan_held", d.dialect), d.run_id, d.audience, d.list_id, d.permission, now.isoformat()
    )
