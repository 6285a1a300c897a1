"""The consent ledger's SQL, built from pipelines/models/sync/consent_ledger.sql (its one definition): the
`create or replace view` the plan makes, and the same query kept to one person's events (`ledger_query`)
that `mailjet-elt explain` reads. What the ledger reads in the place of its stand-ins is decided here, by
the data loaded: the CRM's consent events as their column types say (`crm_events`), the webhook events
once received (`webhook_events`), and the list-to-permission map of the audiences file, a view of its own
made by the plan beside the ledger (`consent_lists`: `lists_sql`). Imports no dlt: explain reads it."""

from __future__ import annotations

from collections.abc import Mapping

import sqlglot
from sqlglot import exp

from pipelines.models import READ_DIALECT, Relation, empty_relation, load, render, replace_tables, statement
from pipelines.models.norm import expand_norm
from pipelines.warehouse.names import API_DATASET, CRM_DATASET, SYNC_DATASET

CONSENT_EVENTS = "consent_events"
LISTS_VIEW = "consent_lists"  # each list an audience maps to a permission, as the last plan read them

NUMBER_TYPES = ("integer", "bigint", "smallint", "tinyint", "hugeint", "double", "real", "float", "decimal")
# crm.consent_events as the statements read it when it is not loaded (text, as the files are written for).
CRM_COLUMNS = {
    "email": "varchar",
    "permission": "varchar",
    "granted": "varchar",
    "at": "timestamp with time zone",
}
WEBHOOK_UNSUB_COLUMNS = {
    "event": "varchar",
    "email": "varchar",
    "time": "timestamp with time zone",
    "mj_list_id": "bigint",
}


def is_number(kind: str) -> bool:
    """Whether a column type (as information_schema names it, lowercase) is numeric."""
    return kind.startswith(NUMBER_TYPES)


def _projection(select: exp.Select, alias: str) -> exp.Alias:
    found = next(s for s in select.expressions if isinstance(s, exp.Alias) and s.alias == alias)
    assert isinstance(found, exp.Alias)
    return found


def crm_events(columns: Mapping[str, str]) -> exp.Select:
    """crm.consent_events read as consent (crm_consent_events.sql), for the column types it has: a
    boolean `granted` as it is, a numeric one as `granted <> 0`, an `at` of Unix seconds through
    `to_timestamp`; an empty relation of text columns while it is not loaded."""
    select = statement("crm_consent_events")
    assert isinstance(select, exp.Select)
    if not columns:
        replace_tables(
            select, {f"{CRM_DATASET}.{CONSENT_EVENTS}": empty_relation({**CRM_COLUMNS, "source": "varchar"})}
        )
        return select
    granted = _projection(select, "granted")
    if columns["granted"].startswith("bool"):
        granted.set("this", exp.column("granted"))
    elif is_number(columns["granted"]):
        granted.set("this", exp.paren(exp.NEQ(this=exp.column("granted"), expression=exp.Literal.number(0))))
    if is_number(columns["at"]):
        _projection(select, "at").set("this", exp.func("to_timestamp", exp.column("at", quoted=True)))
    if "source" not in columns:
        _projection(select, "source").set("this", exp.Literal.string("crm"))
    return select


def list_permissions_relation(permissions: Mapping[int, str]) -> exp.Expression:
    """The list-to-permission map as a relation (list_id, permission): literals, since a view holds no
    bind parameter."""
    if not permissions:
        return empty_relation({"list_id": "bigint", "permission": "varchar"})
    rows: list[exp.Select] = [
        exp.select(
            exp.cast(exp.Literal.number(int(list_id)), "bigint").as_("list_id"),
            exp.cast(exp.Literal.string(permission), "varchar").as_("permission"),
        )
        for list_id, permission in sorted(permissions.items())
    ]
    union: exp.Expression = rows[0]
    for row in rows[1:]:
        union = exp.union(union, row, distinct=False)
    return exp.select("*").from_(exp.Subquery(this=union, alias=exp.TableAlias(this=exp.to_identifier("p"))))


def webhook_events(columns: Mapping[str, str]) -> Relation:
    """mailjet_api.events as the ledger reads it: as it is; its `time` through `to_timestamp` when it is
    Unix seconds; an empty relation until events with those columns are received."""
    if not set(WEBHOOK_UNSUB_COLUMNS) <= set(columns):
        return empty_relation(WEBHOOK_UNSUB_COLUMNS)
    if not is_number(columns["time"]):
        return f"{API_DATASET}.events"
    return exp.select(
        "event", "email", exp.func("to_timestamp", exp.column("time")).as_("time"), "mj_list_id"
    ).from_(f"{API_DATASET}.events")


def ledger_sources(crm_columns: Mapping[str, str], events_columns: Mapping[str, str]) -> dict[str, Relation]:
    """What consent_ledger.sql reads in the place of its stand-ins: the CRM's events and the webhook events
    for the columns they have, the lists' permissions from `consent_lists`."""
    return {
        "crm_consent_events": crm_events(crm_columns),
        "list_permissions": f"{SYNC_DATASET}.{LISTS_VIEW}",
        f"{API_DATASET}.events": webhook_events(events_columns),
    }


def ledger_sql(dialect: str, crm_columns: Mapping[str, str], events_columns: Mapping[str, str]) -> str:
    """The `create or replace view` of `consent_ledger`."""
    return render("consent_ledger", dialect, ledger_sources(crm_columns, events_columns))


def lists_sql(dialect: str, permissions: Mapping[int, str]) -> str:
    """The `create or replace view` of `consent_lists`: `permissions` maps the IDs of lists (Mailjet's, or
    a list known only from imported files) to the permission their audience declares."""
    return render("consent_lists", dialect, {"list_permissions": list_permissions_relation(permissions)})


def ledger_query(
    crm_columns: Mapping[str, str], events_columns: Mapping[str, str], email: exp.Expression
) -> exp.Expression:
    """The query of consent_ledger.sql (its view's rows), each of its sources kept to the rows whose email
    equals `email` (an expression that reads no column; it may call `mailjet_sync.norm`) before they are
    put together: the ledger's rows whose email equals `email`, and no other (every row's email is its
    source's; the forgotten unsubscriptions are the record's rows less the live ones, compared on their
    email too). What `explain` reads rather than the whole ledger. A source's `mailjet_sync.norm(column)`
    compared with the value is tested on the column's lowercase first (pipelines/models/norm.py)."""
    create = sqlglot.parse_one(load("consent_ledger"), read=READ_DIALECT)  # its calls of norm as written
    query = create.expression
    assert isinstance(query, exp.Expression)
    ctes = {cte.alias_or_name.lower(): cte.this for cte in query.find_all(exp.CTE)}
    for select in ctes.values():
        assert isinstance(select, exp.Expression)
        read = {t.name.lower() for t in select.find_all(exp.Table) if not t.db}
        if read & ctes.keys():
            continue  # it puts sources together: each source it reads is kept to the person already
        assert isinstance(select, exp.Select), select.sql()
        found = next(p for p in select.expressions if p.alias_or_name == "email")
        value = found.this if isinstance(found, exp.Alias) else found
        select.where(exp.EQ(this=value.copy(), expression=email.copy()), copy=False)
    expand_norm(query)
    return replace_tables(query, ledger_sources(crm_columns, events_columns))
