"""The diff of one audience against its Mailjet list, in SQL on the destination's engine (DuckDB by
default; the SQL is portable but for JSON building, which has one form per engine).

Inputs, as temporary tables of one connection: `_aud` (the audience: row_no, email_given, email trimmed
and lowercased, rejected by a data test, then its properties as text, p_0..p_n), built by the caller;
then built here: `_members` (the list's members, by email: Mailjet's memberships, and the unsubscribes
imported files state, which keep those people off the list; a file's "subscribed" is no proof of a live
membership), `_managed` (whom this audience added to the list, from `sync_snapshot`), `_consent` (the
latest consent event per email for the list's permission), `_suppressed` (excluded from campaigns, spam
complainers, hard bounces) and `_current` (the members' property values in Mailjet).

The rules (design §7), each a branch of one INSERT into `sync_plan`:
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
  from Mailjet's; a null value is never pushed (nothing in Mailjet is erased by accident)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dlt.destinations.sql_client import SqlClientBase

from pipelines.sync.ledger import columns_of, mailjet_email
from pipelines.sync.tables import table
from pipelines.warehouse.datasets import API_DATASET, VIEWS_DATASET

TEMP_TABLES = ("_members", "_managed", "_consent", "_suppressed", "_current", "_state", "_presence")


def sql_text(value: str | None) -> str:
    """A SQL string literal (or null)."""
    if value is None:
        return "null"
    return "'" + value.replace("'", "''") + "'"


def sql_id(value: int | None) -> str:
    """A SQL integer literal (or a typed null)."""
    return "cast(null as bigint)" if value is None else str(int(value))


def json_object_sql(dialect: str, pairs: Sequence[tuple[str, str]]) -> str:
    """A JSON object (as text) of the non-null values among `pairs` (name, SQL expression); null when
    there are no pairs."""
    if not pairs:
        return "cast(null as varchar)"
    args = ", ".join(f"{sql_text(name)}, {expr}" for name, expr in pairs)
    if dialect == "postgres":
        return f"cast(json_strip_nulls(json_build_object({args})) as varchar)"
    # A JSON merge patch drops the members whose value is null.
    return f"cast(json_merge_patch('{{}}', json_object({args})) as varchar)"


@dataclass(frozen=True)
class DiffInput:
    """What the diff of one audience run needs besides its `_aud` table."""

    run_id: int
    audience: str
    list_id: int | None  # Mailjet's list; None while it does not exist
    member_list_id: int | None  # whose memberships count: Mailjet's list, else one known from files
    permission: str | None
    on_exit: str  # remove | unsub | keep
    properties: tuple[str, ...]
    exits_allowed: bool  # False when the audience is empty: nobody leaves an empty audience
    dialect: str = "duckdb"


def build_inputs(client: SqlClientBase[Any], d: DiffInput) -> None:
    """Create the temporary input tables of the diff (dropping those of an earlier audience)."""
    for name in TEMP_TABLES:
        client.execute_sql(f"drop table if exists {name}")
    where_list = "1 = 0" if d.member_list_id is None else f"r.list_id = {sql_id(d.member_list_id)}"
    email = mailjet_email("c.email")
    client.execute_sql(
        "create temporary table _members as "
        f"select {email} as email, min(case when r._source = 'api' then r.contact_id end) as contact_id, "
        "bool_or(r.is_unsubscribed) as is_unsubscribed, max(r.subscribed_at) as subscribed_at "
        f"from {VIEWS_DATASET}.list_recipients r join {VIEWS_DATASET}.contacts c on c.id = r.contact_id "
        f"where {where_list} and c.email is not null and (r._source = 'api' or r.is_unsubscribed = true) "
        f"group by {email}"
    )
    client.execute_sql(
        "create temporary table _managed as select email, min(managed_since) as managed_since "
        f"from {table('sync_snapshot')} where audience = {sql_text(d.audience)} and "
        f"list_id = {sql_id(d.list_id)} and last_action = 'addnoforce' group by email"
    )
    client.execute_sql(
        'create temporary table _consent as select email, granted, "at", source '
        f"from {table('consent_current')} where permission = {sql_text(d.permission)}"
    )
    plain = mailjet_email("email")
    sources = [
        f"select {plain} as email, 1 as rank, 'excluded_from_campaigns' as reason "
        f"from {VIEWS_DATASET}.contacts where is_excluded_from_campaigns",
        f"select {plain}, 2, 'spam_complaint' from {VIEWS_DATASET}.contacts where is_spam_complaining",
        f"select {email}, 3, 'hard_bounce' from {VIEWS_DATASET}.bounces b "
        f"join {VIEWS_DATASET}.contacts c on c.id = b.contact_id where b.is_state_permanent",
    ]
    events = columns_of(client, API_DATASET, "events")
    if {"event", "email"} <= set(events):  # webhook events, once they are received
        sources.append(f"select {plain}, 2, 'spam_complaint' from {API_DATASET}.events where event = 'spam'")
        if "hard_bounce" in events:
            sources.append(
                f"select {plain}, 3, 'hard_bounce' from {API_DATASET}.events "
                "where event = 'bounce' and hard_bounce"
            )
    client.execute_sql(
        "create temporary table _suppressed as select email, reason from ("
        "select email, reason, row_number() over (partition by email order by rank) as n from ("
        + " union all ".join(sources)
        + ") s where email in (select email from _aud)) t where n = 1"
    )
    if d.properties:
        picks = ", ".join(
            f"max(case when lower(cp.name) = {sql_text(p.lower())} then cast(cp.value as varchar) end) "
            f"as p_{i}"
            for i, p in enumerate(d.properties)
        )
        client.execute_sql(
            f"create temporary table _current as select cp.contact_id, {picks} "
            f"from {VIEWS_DATASET}.contact_properties cp "
            "where cp._source = 'api' and cp.contact_id in (select contact_id from _members) "
            "group by cp.contact_id"
        )
    consent_ok = "k.granted = true" if d.permission else "true"
    props = "".join(f", a.p_{i}" for i in range(len(d.properties)))
    client.execute_sql(
        "create temporary table _state as select a.email, a.rejected, m.email is not null as is_member, "
        "m.is_unsubscribed, m.contact_id, m.subscribed_at, s.reason as suppressed, k.granted, "
        f'k."at" as consent_at, k.source as consent_source, ({consent_ok}) as consent_ok{props} '
        "from _aud a left join _members m on m.email = a.email left join _suppressed s on s.email = a.email "
        "left join _consent k on k.email = a.email where a.email is not null"
    )
    client.execute_sql(
        "create temporary table _presence as select email, bool_or(rejected) as any_rejected, "
        "bool_or(not rejected and suppressed is null and consent_ok) as eligible, "
        "min(suppressed) as suppressed from _state group by email"
    )


def withdrawn_sql(member: str, consent: str) -> str:
    """Whether a member's latest consent event is a withdrawal no older than their subscription (for a
    member the sync added, a withdrawal at any time: that subscription was not the person's act)."""
    return (
        f"({consent}.granted = false and ({member}.subscribed_at is null or "
        f'{consent}."at" >= {member}.subscribed_at or {member}.email in (select email from _managed)))'
    )


def plan_sql(d: DiffInput) -> str:
    """The INSERT of the run's `sync_plan` rows."""
    head = f"select {d.run_id} as run_id, {sql_text(d.audience)} as audience, {sql_id(d.list_id)} as list_id"
    granted = "and granted = true " if d.permission else ""
    add_evidence = (
        "'consent granted ' || cast(consent_at as varchar) || ' (' || consent_source || ')'"
        if d.permission
        else "cast(null as varchar)"
    )
    all_props = json_object_sql(d.dialect, [(p, f"p_{i}") for i, p in enumerate(d.properties)])
    branches = [
        f"{head}, email, cast(null as bigint) as contact_id, 'addnoforce' as action, "
        f"'joined_audience' as reason, {add_evidence} as evidence, {all_props} as properties "
        "from (select distinct * from _state where not rejected and not is_member and suppressed is null "
        f"{granted}) a"
    ]
    if d.permission:
        branches.append(
            f"{head}, m.email, m.contact_id, 'unsub', 'consent_withdrawn', "
            "'withdrawn ' || cast(k.\"at\" as varchar) || ' (' || k.source || '); subscribed ' || "
            "coalesce(cast(m.subscribed_at as varchar), 'at an unknown date'), cast(null as varchar) "
            "from _members m join _consent k on k.email = m.email "
            f"where coalesce(m.is_unsubscribed, false) = false and {withdrawn_sql('m', 'k')}"
        )
    if d.on_exit != "keep" and d.exits_allowed:
        withdrawn = f"and not coalesce({withdrawn_sql('m', 'k')}, false) " if d.permission else ""
        consent_join = "left join _consent k on k.email = m.email " if d.permission else ""
        branches.append(
            f"{head}, m.email, m.contact_id, {sql_text(d.on_exit)}, "
            "coalesce(p.suppressed, case when p.email is not null and "
            f"{'true' if d.permission else 'false'} then 'no_consent' end, 'left_audience'), "
            "'added by this audience ' || cast(g.managed_since as varchar), cast(null as varchar) "
            "from _members m join _managed g on g.email = m.email left join _presence p on p.email = m.email "
            f"{consent_join}"
            "where m.is_unsubscribed = false and not coalesce(p.eligible, false) and "
            f"not coalesce(p.any_rejected, false) {withdrawn}"
        )
    if d.properties:
        changed = [
            f"(a.p_{i} is not null and (c.p_{i} is null or a.p_{i} <> c.p_{i}))"
            for i in range(len(d.properties))
        ]
        evidence = " || ".join(
            f"case when {flag} then {sql_text(p + ': ')} || coalesce(c.p_{i}, '(none)') || ' -> ' || "
            f"a.p_{i} || '; ' else '' end"
            for i, (p, flag) in enumerate(zip(d.properties, changed, strict=True))
        )
        pushed = json_object_sql(
            d.dialect,
            [
                (p, f"case when {flag} then a.p_{i} end")
                for i, (p, flag) in enumerate(zip(d.properties, changed, strict=True))
            ],
        )
        branches.append(
            f"{head}, a.email, a.contact_id, 'update', 'properties_changed', {evidence}, {pushed} "
            "from _state a left join _current c on c.contact_id = a.contact_id "
            "where not a.rejected and a.is_member and a.is_unsubscribed = false and a.suppressed is null "
            f"{'and a.granted = true ' if d.permission else ''}and ({' or '.join(changed)})"
        )
    columns = "run_id, audience, list_id, email, contact_id, action, reason, evidence, properties"
    return f"insert into {table('sync_plan')} ({columns})\n" + "\nunion all\n".join(branches)


HELD_DETAIL = {
    "unsubscribed_in_mailjet": "unsubscribed from this list in Mailjet; only they can subscribe again",
    "excluded_from_campaigns": "excluded from campaigns in Mailjet",
    "spam_complaint": "reported a message as spam",
    "hard_bounce": "a message to the address bounced permanently",
    "no_consent": "no consent event for the list's permission",
}


def held_sql(d: DiffInput, at: str) -> str:
    """The INSERT of the `sync_rejections` rows of the people held back: in the audience, but not to be
    added (unsubscribed from the list, suppressed, or without consent)."""
    consent = (
        "when k_granted is null then 'no_consent' when k_granted = false then 'consent_withdrawn' "
        if d.permission
        else ""
    )
    details = " ".join(f"when {sql_text(r)} then {sql_text(t)}" for r, t in HELD_DETAIL.items())
    return (
        f"insert into {table('sync_rejections')} "
        '(run_id, audience, list_id, email, stage, reason, detail, "at") '
        f"select {d.run_id}, {sql_text(d.audience)}, {sql_id(d.list_id)}, email, 'plan', reason, "
        f"case reason {details} else 'consent withdrawn ' || cast(consent_at as varchar) || ' (' || "
        f"consent_source || ')' end, {at} from ("
        "select distinct email, consent_at, consent_source, "
        "case when is_unsubscribed then 'unsubscribed_in_mailjet' "
        f"when suppressed is not null then suppressed {consent.replace('k_granted', 'granted')}end as reason "
        "from _state where not rejected and (not is_member or is_unsubscribed)) h where reason is not null"
    )
