"""The consent ledger: every consent event we know, per (email, permission), as views analysts query.

`mailjet_sync.consent_ledger` is the union of
- the CRM's consent events (`crm.consent_events`: email, permission, granted, at, source), when loaded;
- Mailjet's list state, for each list an audience maps to a permission (`-- permission:` header): a
  subscribed member is a grant at `subscribed_at`, an unsubscribed one a withdrawal at `unsubscribed_at`.
  Mailjet's state without a date is no event (a date would be invented; it still keeps that person off
  that list: see the diff). A subscription the sync made itself (`sync_snapshot`) is not the person's
  grant and is left out;
- the unsubscribes imported CSV files state (as the `mailjet.list_recipients` view shows them), dated
  when the file was imported (exports carry no date);
- webhook `unsub` events (`mailjet_api.events`), once they are received.

`mailjet_sync.consent_current` keeps the latest event per (email, permission); on a tie the withdrawal
wins. The views are (re)created by `plan`, with the list-to-permission map of the audiences file."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dlt.destinations.exceptions import DatabaseException
from dlt.destinations.sql_client import SqlClientBase

from pipelines.sync.audiences import AudienceError
from pipelines.sync.tables import table
from pipelines.warehouse.datasets import API_DATASET, CRM_DATASET, VIEWS_DATASET

CONSENT_EVENTS = "consent_events"
REQUIRED = ("email", "permission", "granted", "at")
GRANTED_WORDS = tuple(
    [
        "true",
        "t",
        "yes",
        "y",
        "1",
        "granted",
        "grant",
        "given",
        "opt-in",
        "optin",
        "opt_in",
        "opted-in",
        "opted_in",
        "subscribed",
        "subscribe",
        "consented",
        "accepted",
    ]
)
WITHDRAWN_WORDS = tuple(
    [
        "false",
        "f",
        "no",
        "n",
        "0",
        "withdrawn",
        "withdraw",
        "revoked",
        "revoke",
        "opt-out",
        "optout",
        "opt_out",
        "opted-out",
        "opted_out",
        "unsubscribed",
        "unsubscribe",
        "unsub",
        "declined",
        "denied",
        "refused",
    ]
)
TEXT_TYPES = ("varchar", "text", "character varying", "string", "char", "character")
NUMBER_TYPES = ("integer", "bigint", "smallint", "tinyint", "hugeint", "double", "real", "float", "decimal")
LEDGER_COLUMNS = ("email", "permission", "granted", '"at"', "source", "list_id")


def columns_of(client: SqlClientBase[Any], dataset: str, name: str) -> dict[str, str]:
    """The columns of `dataset.name` (lowercase name -> lowercase type); empty when it does not exist."""
    rows = client.execute_sql(
        "select column_name, data_type from information_schema.columns where table_catalog = "
        "current_database() and table_schema = %s and table_name = %s",
        dataset,
        name,
    )
    return {str(c).lower(): str(t).lower() for c, t in rows or []}


def norm_email(expr: str) -> str:
    """An address as every rule compares it: without surrounding whitespace (tabs and line breaks
    included), lowercased."""
    return f"lower(regexp_replace(cast({expr} as varchar), '^\\s+|\\s+$', '', 'g'))"


def mailjet_email(expr: str) -> str:
    """An address from Mailjet's data (its API, or an export the importer validated: never with
    surrounding whitespace) as every rule compares it."""
    return f"lower({expr})"


def _words(words: tuple[str, ...]) -> str:
    return ", ".join(f"'{w}'" for w in words)


def granted_sql(kind: str) -> str:
    """`granted` of crm.consent_events as a boolean (null when it says neither), by its column type."""
    if kind.startswith("bool"):
        return "granted"
    if kind.startswith(NUMBER_TYPES):
        return "(granted <> 0)"
    text = "lower(trim(cast(granted as varchar)))"
    return (
        f"(case when {text} in ({_words(GRANTED_WORDS)}) then true "
        f"when {text} in ({_words(WITHDRAWN_WORDS)}) then false end)"
    )


def at_sql(kind: str) -> str:
    """`at` of crm.consent_events as a timestamp with time zone (epoch seconds when it is a number)."""
    if kind.startswith(NUMBER_TYPES):
        return 'to_timestamp("at")'
    return 'cast("at" as timestamp with time zone)'


def crm_events_sql(columns: Mapping[str, str]) -> str | None:
    """The ledger's rows from crm.consent_events (None when it is not loaded); raises AudienceError for a
    table without the documented columns."""
    if not columns:
        return None
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise AudienceError(
            f"{CRM_DATASET}.{CONSENT_EVENTS} has no column {', '.join(missing)}; the consent ledger reads "
            "email, permission, granted (true/false, yes/no, granted/withdrawn) and at (a timestamp), plus "
            f"an optional source. Load a file of that shape: mailjet-elt load FILE --table {CONSENT_EVENTS}"
        )
    granted = granted_sql(columns["granted"])
    at = at_sql(columns["at"])
    source = "coalesce(cast(source as varchar), 'crm')" if "source" in columns else "'crm'"
    return (
        f"select {norm_email('email')} as email, lower(trim(cast(permission as varchar))) "
        f'as permission, {granted} as granted, {at} as "at", {source} as source, '
        f"cast(null as bigint) as list_id from {CRM_DATASET}.{CONSENT_EVENTS} "
        f"where email is not null and permission is not null and {granted} is not null and "
        '"at" is not null'
    )


def permissions_sql(permissions: Mapping[int, str]) -> str:
    """The list-to-permission map as a relation (list_id, permission)."""
    if not permissions:
        return "(select cast(null as bigint) as list_id, cast(null as varchar) as permission where 1 = 0)"
    rows = " union all ".join(
        f"select cast({int(list_id)} as bigint), cast('{permission}' as varchar)"
        for list_id, permission in sorted(permissions.items())
    )
    return f"(select * from ({rows}) as p (list_id, permission))"


def ledger_sql(
    crm_columns: Mapping[str, str], events_columns: Mapping[str, str], permissions: Mapping[int, str]
) -> str:
    """The SELECT of `consent_ledger`. `permissions` maps the IDs of lists (Mailjet's, or a list known
    only from imported files) to the permission their audience declares."""
    mapped = permissions_sql(permissions)
    parts = []
    crm = crm_events_sql(crm_columns)
    if crm:
        parts.append(crm)
    # Mailjet's list state: a subscribed member is a grant at `subscribed_at`, an unsubscribed one a
    # withdrawal at `unsubscribed_at`. No date, no event: a date would be invented, and the event could
    # outrank a real one for another list of the same permission. A subscription the sync made is no
    # grant of the person's. A file's unsubscribe is dated when the file was imported.
    email = mailjet_email("c.email")
    parts.append(
        f"select {email} as email, p.permission, (r.is_unsubscribed = false) as granted, "
        "case when r.is_unsubscribed then coalesce(r.unsubscribed_at, "
        "case when r._source <> 'api' then r._extracted_at end) else r.subscribed_at end as \"at\", "
        "case when r._source = 'api' then 'mailjet' else r._source end as source, r.list_id "
        f"from {VIEWS_DATASET}.list_recipients r join {mapped} p on p.list_id = r.list_id "
        f"join {VIEWS_DATASET}.contacts c on c.id = r.contact_id "
        "where c.email is not null and ("
        "(r.is_unsubscribed = true and (r.unsubscribed_at is not null or r._source <> 'api')) or "
        "(r.is_unsubscribed = false and r.subscribed_at is not null and not exists ("
        f"select 1 from {table('sync_snapshot')} s where s.list_id = r.list_id and s.email = {email} "
        "and s.last_action = 'addnoforce')))"
    )
    if {"event", "email", "time", "mj_list_id"} <= set(events_columns):
        at = "to_timestamp(e.time)" if events_columns["time"].startswith(NUMBER_TYPES) else "e.time"
        parts.append(
            f'select {mailjet_email("e.email")} as email, p.permission, false as granted, {at} as "at", '
            "'webhook' as source, e.mj_list_id as list_id "
            f"from {API_DATASET}.events e join {mapped} p on p.list_id = e.mj_list_id "
            "where e.event = 'unsub' and e.email is not null"
        )
    return "\nunion all\n".join(parts)


CURRENT_SQL = (
    'select email, permission, granted, "at", source, list_id from ('
    'select l.*, row_number() over (partition by email, permission order by "at" desc, '
    "case when granted then 1 else 0 end, source) as n "
    f"from {table('consent_ledger')} l where permission is not null"
    ") latest where n = 1"
)


def check_crm_events(client: SqlClientBase[Any], columns: Mapping[str, str]) -> None:
    """Raise AudienceError (exit 2) when crm.consent_events holds values the ledger cannot read: a
    `granted` that says neither granted nor withdrawn (a withdrawal must never be lost), an `at` that is
    not a time."""
    if not columns:
        return
    kind = columns.get("granted", "")
    if not (kind.startswith("bool") or kind.startswith(NUMBER_TYPES)):
        text = "lower(trim(cast(granted as varchar)))"
        rows = client.execute_sql(
            f"select {text}, count(*) from {CRM_DATASET}.{CONSENT_EVENTS} where granted is not null and "
            f"{text} not in ({_words(GRANTED_WORDS)}, {_words(WITHDRAWN_WORDS)}) group by 1 order by 2 desc"
        )
        if rows:
            shown = ", ".join(f"{str(v)!r} ({int(n):,} row{'' if int(n) == 1 else 's'})" for v, n in rows[:5])
            raise AudienceError(
                f"{CRM_DATASET}.{CONSENT_EVENTS}: `granted` says neither granted nor withdrawn in {shown}; "
                "a withdrawal must never be missed, so nothing is planned. Use true/false (or yes/no, "
                "granted/withdrawn, opt-in/opt-out) and load the file again"
            )
    try:
        # Every value converted (a bare count would let the engine skip the conversions).
        client.execute_sql(f'select max(e."at"), count(e.granted) from ({crm_events_sql(columns)}) e')
    except DatabaseException as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise AudienceError(
            f"{CRM_DATASET}.{CONSENT_EVENTS} cannot be read as consent events ({first}); `at` must be a time "
            "(e.g. 2026-01-31T12:00:00Z) or Unix seconds. Fix the file and load it again"
        ) from None


def create_ledger(client: SqlClientBase[Any], permissions: Mapping[int, str]) -> None:
    """(Re)create `consent_ledger` and `consent_current` in `mailjet_sync`, mapping each list ID of
    `permissions` to its permission. Raises AudienceError for CRM consent events it cannot read."""
    crm = columns_of(client, CRM_DATASET, CONSENT_EVENTS)
    crm_events_sql(crm)  # the documented columns, before anything else
    check_crm_events(client, crm)
    events = columns_of(client, API_DATASET, "events")
    client.execute_sql(
        f"create or replace view {table('consent_ledger')} as\n{ledger_sql(crm, events, permissions)}"
    )
    client.execute_sql(f"create or replace view {table('consent_current')} as\n{CURRENT_SQL}")
