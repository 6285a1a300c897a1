"""The consent ledger: every consent event we know, per (email, permission), as views analysts query.

`mailjet_sync.consent_ledger` (pipelines/models/sync/consent_ledger.sql) is the union of
- the CRM's consent events (`crm.consent_events`: email, permission, granted, at, source), when loaded;
- Mailjet's list state, for each list an audience maps to a permission (`-- permission:` header): a
  subscribed member is a grant at `subscribed_at`, an unsubscribed one a withdrawal at `unsubscribed_at`.
  Mailjet's state without a date is no event (a date would be invented; it still keeps that person off
  that list: see the diff). A subscription the sync made itself (`sync_snapshot`) is not the person's
  grant and is left out;
- the unsubscribes imported files state (as the `mailjet.list_recipients` view shows them), dated
  when the file was imported (exports carry no date);
- webhook `unsub` events (`mailjet_api.events`), once they are received.

`mailjet_sync.consent_current` keeps the latest event per (email, permission); on a tie the withdrawal
wins. The views are (re)created by `plan`, with the list-to-permission map of the audiences file (its view
`consent_lists`). What depends on the data loaded (which tables exist, the types of the CRM's columns) is
decided in pipelines/sync/ledger_query.py, by putting sqlglot expressions in the place of the tables and
columns of the statements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dlt.destinations.exceptions import DatabaseException
from dlt.destinations.sql_client import SqlClientBase
from sqlglot import exp

from pipelines.models import Relation, empty_relation, render, statement, to_sql
from pipelines.sync.audiences import AudienceError
from pipelines.sync.datatests import EMAIL_PATTERN
from pipelines.sync.ledger_query import (
    CONSENT_EVENTS,
    crm_events,
    is_number,
    ledger_sql,
    lists_sql,
    webhook_events,
)
from pipelines.warehouse.catalog import columns
from pipelines.warehouse.datasets import API_DATASET, CRM_DATASET

CONSENT_SNAPSHOT = "_consent_current"  # consent_current, copied per audience run (consent_snapshot.sql)
FUTURE_SKEW = timedelta(hours=1)  # clocks differ: an event this far ahead of now is still believed
REQUIRED = ("email", "permission", "granted", "at")


def columns_of(client: SqlClientBase[Any], dataset: str, name: str) -> dict[str, str]:
    """The columns of `dataset.name` (lowercase name -> lowercase type); empty when it does not exist."""
    return {column.lower(): kind for column, kind in columns(client, dataset, name)}


def check_crm_columns(columns: Mapping[str, str]) -> None:
    """Raise AudienceError for a loaded crm.consent_events without the documented columns."""
    missing = [c for c in REQUIRED if c not in columns]
    if columns and missing:
        raise AudienceError(
            f"{CRM_DATASET}.{CONSENT_EVENTS} has no column {', '.join(missing)}; the consent ledger reads "
            "email, permission, granted (true/false, yes/no, granted/withdrawn) and at (a timestamp), plus "
            f"an optional source. Load a file of that shape: mailjet-elt load FILE --table {CONSENT_EVENTS}"
        )


def check_crm_events(client: SqlClientBase[Any], columns: Mapping[str, str], dialect: str) -> None:
    """Raise AudienceError (exit 2) when crm.consent_events holds values the ledger cannot read: a
    `granted` that says neither granted nor withdrawn (a withdrawal must never be lost), an `at` that is
    not a time."""
    if not columns:
        return
    events = crm_events(columns)
    kind = columns.get("granted", "")
    if not (kind.startswith("bool") or is_number(kind)):
        rows = client.execute_sql(render("crm_consent_unreadable", dialect, {"crm_consent_events": events}))
        if rows:
            shown = ", ".join(f"{str(v)!r} ({int(n):,} row{'' if int(n) == 1 else 's'})" for v, n in rows[:5])
            raise AudienceError(
                f"{CRM_DATASET}.{CONSENT_EVENTS}: `granted` says neither granted nor withdrawn in {shown}; "
                "a withdrawal must never be missed, so nothing is planned. Use true/false (or yes/no, "
                "granted/withdrawn, opt-in/opt-out) and load the file again"
            )
    try:
        client.execute_sql(render("crm_consent_check", dialect, {"crm_consent_events": events}))
    except DatabaseException as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise AudienceError(
            f"{CRM_DATASET}.{CONSENT_EVENTS} cannot be read as consent events ({first}); `at` must be a time "
            "(e.g. 2026-01-31T12:00:00Z) or Unix seconds. Fix the file and load it again"
        ) from None


def create_ledger(
    client: SqlClientBase[Any], permissions: Mapping[int, str], dialect: str, now: datetime
) -> None:
    """(Re)create `consent_ledger` and `consent_current` in `mailjet_sync`, mapping each list ID of
    `permissions` to its permission, then add what the sources show to the durable record of
    unsubscriptions. Raises AudienceError for CRM consent events it cannot read, and for any consent
    event dated after `now` (plus FUTURE_SKEW), before anything is recorded."""
    crm = columns_of(client, CRM_DATASET, CONSENT_EVENTS)
    check_crm_columns(crm)  # the documented columns, before anything else
    check_crm_events(client, crm, dialect)
    events = columns_of(client, API_DATASET, "events")
    client.execute_sql(lists_sql(dialect, permissions))
    client.execute_sql(ledger_sql(dialect, crm, events))
    client.execute_sql(to_sql(statement("consent_current"), dialect))
    sources = {"crm_consent_events": crm_events(crm), f"{API_DATASET}.events": webhook_events(events)}
    check_future(client, dialect, now, sources)
    client.execute_sql(render("record_unsubscriptions", dialect, sources), now.isoformat())


def copy_consent(client: SqlClientBase[Any], dialect: str) -> None:
    """Copy `consent_current` as it stands into a temporary table (`CONSENT_SNAPSHOT`): an audience run's
    rows and its list's consent are read from the copy, so the ledger is sorted once rather than once per
    read (`ConsentCopy` says when a run needs a new one)."""
    client.execute_sql(render("drop_temporary", dialect, {"_temporary": CONSENT_SNAPSHOT}))
    client.execute_sql(render("consent_snapshot", dialect))


@dataclass
class ConsentCopy:
    """A plan's copy of `consent_current`, made for its first audience run and made again for a later one
    only when an earlier run changed what the ledger reads: a membership it released is the person's own
    grant from then on. Runs change nothing else the ledger reads, so the copy is made once per plan in
    the usual case (at a million people, seconds per audience)."""

    added: int | None = None  # the sync's memberships (`consent_copy_added`) when the copy was made

    def refresh(self, client: SqlClientBase[Any], dialect: str) -> None:
        """Make the copy, unless the one made earlier in this session still reads as the ledger does."""
        rows = client.execute_sql(render("consent_copy_added", dialect))
        added = int(rows[0][0]) if rows else -1
        if self.added is not None and added == self.added:
            return
        copy_consent(client, dialect)
        self.added = added


def check_future(
    client: SqlClientBase[Any], dialect: str, now: datetime, sources: Mapping[str, Relation]
) -> None:
    """Raise AudienceError naming the consent events dated after `now` (plus FUTURE_SKEW): a mistyped
    date would outrank every later event. The ledger is read for them only when a date of its sources
    (`sources`: the stand-ins of the CRM's events and the webhook events) is that late: those dates are
    read as they are, without the ledger's normalizing and sorting."""
    after = (now + FUTURE_SKEW).isoformat()
    found = client.execute_sql(render("consent_future_any", dialect, sources), after)
    if not found or not found[0][0]:
        return
    rows = client.execute_sql(render("consent_future", dialect), after)
    if not rows:
        return
    n = int(rows[0][5])
    shown = "; ".join(
        f"{email} {permission} {'granted' if granted else 'withdrawn'} at {at} (source {source})"
        for email, permission, granted, at, source, _ in rows
    )
    raise AudienceError(
        f"{n:,} consent event{'' if n == 1 else 's'} {'is' if n == 1 else 'are'} dated in the future "
        f"(after {now:%Y-%m-%d %H:%M} UTC): {shown}{'; ...' if n > len(rows) else ''}. A future date would "
        "outrank every later event, so nothing is planned. Fix the dates at their source (for the CRM: "
        f"the file loaded into {CRM_DATASET}.{CONSENT_EVENTS}, then load it again)"
    )


def known_permissions_relation(permissions: Sequence[str]) -> exp.Expression:
    """The permissions the audiences file declares, as a relation (permission)."""
    if not permissions:
        return empty_relation({"permission": "varchar"})
    rows: list[exp.Select] = [
        exp.select(exp.cast(exp.Literal.string(p), "varchar").as_("permission"))
        for p in sorted(set(permissions))
    ]
    union: exp.Expression = rows[0]
    for row in rows[1:]:
        union = exp.union(union, row, distinct=False)
    return exp.select("*").from_(exp.Subquery(this=union, alias=exp.TableAlias(this=exp.to_identifier("k"))))


@dataclass(frozen=True)
class ConsentRun:
    """The audience run the CRM's unusable consent rows are written with."""

    run_id: int
    audience: str
    list_id: int | None
    permission: str | None
    takes_rest: bool  # also the rows of no audience's permission (the plan's first run)
    known: tuple[str, ...]  # every permission the audiences file declares


def insert_consent_rejections(
    client: SqlClientBase[Any], run: ConsentRun, dialect: str, now: datetime
) -> None:
    """Write to `sync_rejections` (stage consent) the CRM consent rows of the run's permission (or, for
    the first run, of none) that the ledger cannot use, each with its reason."""
    crm = columns_of(client, CRM_DATASET, CONSENT_EVENTS)
    if not crm:
        return
    client.execute_sql(
        render(
            "consent_rejections",
            dialect,
            {
                "crm_consent_events": crm_events(crm),
                "known_permissions": known_permissions_relation(run.known),
            },
        ),
        run.run_id,
        run.audience,
        run.list_id,
        run.permission,
        run.takes_rest,
        now.isoformat(),
        EMAIL_PATTERN,
    )
