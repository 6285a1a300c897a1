"""The `mailjet_sync` dataset, the sync's audit trail: created on first use with portable DDL (DuckDB and
Postgres), written by `plan` (and `apply`) in one transaction per audience run, never rewritten.

- `sync_runs`: one row per audience run: its list, the counts per action, the guards' verdicts, status.
- `sync_plan`: the changes a run planned, one row per (email, action), with the reason and evidence.
- `sync_rejections`: rows left out, and why: failed data tests, or held back by a rule (unsubscribed in
  Mailjet, suppressed, no consent).
- `sync_changelog`: one row per change sent, once Mailjet's job said how it went: run, job, action,
  reason, outcome (done, refused with Mailjet's error, failed).
- `sync_jobs`: every bulk job apply started, written before it waits for the job: an apply stopped while
  Mailjet ran a job finds it again (by its batch of changes) and records how it ended instead of
  sending the batch twice, even when a newer plan has superseded the run.
- `sync_intents`: each batch apply is about to send, written before the request: a batch sent again after
  a stop that finds its intent but no job (stopped between Mailjet's answer and the journal) sends only
  the changes the list does not show yet.
- `sync_unsubscriptions`: every unsubscription the sync has seen, never deleted: Mailjet's unsubscribed
  members (extracts and imported files), webhook `unsub` events, the CRM's withdrawals (recorded by
  `plan`), and the members a removal batch passed over (recorded by `apply`). Nobody in it is added to the
  list again unless a newer grant follows it, even when Mailjet's own record of it is gone.
- `sync_snapshot`: what the sync manages: who it added to which list, and its last action on them (a
  contact it removed or unsubscribed since is no longer managed: if they come back on their own, they
  are theirs). A membership that changed outside the sync (unsubscribed, removed, or subscribed again
  later than the add, as an extract made after the add shows it) is `released` at the next plan: no
  longer the sync's.

A table of an earlier version gains the columns added since (never loses any)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipelines.warehouse import names
from pipelines.warehouse.catalog import all_columns

if TYPE_CHECKING:  # typing only: reading the tables' specs imports no dlt
    from dlt.destinations.sql_client import SqlClientBase

SYNC_DATASET = names.SYNC_DATASET
TS = "timestamp with time zone"
TABLES: dict[str, dict[str, str]] = {
    "sync_runs": {
        "run_id": "bigint not null",
        "audience": "varchar not null",
        "list_ref": "varchar not null",
        "list_id": "bigint",  # null while the list does not exist in Mailjet (created by apply)
        "list_name": "varchar",
        "permission": "varchar",
        "on_exit": "varchar not null",
        "audiences_file": "varchar not null",
        "planned_at": f"{TS} not null",
        "data_as_of": TS,  # when the Mailjet data the plan read was extracted
        "status": "varchar not null",  # planned (apply moves it on)
        "audience_rows": "bigint not null",
        "rejected": "bigint not null",  # failed a data test
        "held_back": "bigint not null",  # in the audience, not added: unsubscribed, suppressed, no consent
        "list_members": "bigint not null",  # subscribed members of the list when planned
        "adds": "bigint not null",
        "unsubs": "bigint not null",
        "removes": "bigint not null",
        "updates": "bigint not null",
        "guard": "varchar not null",  # ok | stop: what apply will do without --force
        "guard_detail": "varchar not null",  # JSON: one {guard, verdict, detail} per guard
        "properties": "varchar",  # the audience's declared properties, comma-separated
        "property_types": "varchar",  # JSON: each property's Mailjet datatype, from its column's SQL type
        # Written by apply (status: applying, then applied or partial):
        "applied_at": TS,
        "done": "bigint",  # changes Mailjet confirmed
        "refused": "bigint",  # contacts a job refused (sync_rejections, stage apply)
        "failed": "bigint",  # changes of jobs that failed as a whole
        "mismatches": "bigint",  # confirmed changes the list, read again after apply, does not show
        "mismatch_detail": "varchar",  # JSON: a few of them, {email, action, found}
    },
    "sync_plan": {
        "run_id": "bigint not null",
        "audience": "varchar not null",
        "list_id": "bigint",
        "email": "varchar not null",
        "contact_id": "bigint",
        "action": "varchar not null",  # addnoforce | unsub | remove | update
        "reason": "varchar not null",
        "evidence": "varchar",
        "properties": "varchar",  # JSON object of the property values to push (never a null)
    },
    "sync_rejections": {
        "run_id": "bigint not null",
        "audience": "varchar not null",
        "list_id": "bigint",
        "email": "varchar",  # as the audience gave it (may be missing: that is a reason)
        "stage": "varchar not null",  # data_test | plan
        "reason": "varchar not null",
        "detail": "varchar",
        "at": f"{TS} not null",
    },
    "sync_changelog": {
        "run_id": "bigint not null",
        "audience": "varchar not null",
        "list_id": "bigint not null",
        "email": "varchar not null",
        "action": "varchar not null",
        "reason": "varchar not null",
        "job_id": "bigint",
        "outcome": "varchar not null",  # done | refused | failed
        "error": "varchar",  # Mailjet's, when refused or failed
        "at": f"{TS} not null",
    },
    "sync_jobs": {
        "job_id": "bigint not null",
        "resource": "varchar not null",  # where it is polled: contactslist/{id}/managemanycontacts, ...
        "batch_key": "varchar not null",  # the list, the action and the changes it carries (a hash)
        "run_id": "bigint not null",
        "list_id": "bigint not null",
        "action": "varchar not null",
        "contacts": "bigint not null",
        "started_at": f"{TS} not null",
    },
    "sync_intents": {
        "batch_key": "varchar not null",  # as in sync_jobs
        "run_id": "bigint not null",
        "list_id": "bigint not null",
        "action": "varchar not null",
        "contacts": "bigint not null",
        "intended_at": f"{TS} not null",
    },
    "sync_unsubscriptions": {
        "email": "varchar not null",  # as mailjet_sync.norm writes it
        "list_id": "bigint",  # the list they unsubscribed from; null for a CRM withdrawal
        "permission": "varchar",  # the CRM withdrawal's permission; null for a list's unsubscription
        "unsubscribed_at": TS,  # as the source dates it; null when it gives no date
        "source": "varchar not null",  # mailjet | webhook | apply | crm | the imported file's source
        "recorded_at": f"{TS} not null",  # when the sync first saw it
    },
    "sync_snapshot": {
        "audience": "varchar not null",
        "list_id": "bigint not null",
        "email": "varchar not null",
        "managed_since": f"{TS} not null",
        "last_action": "varchar not null",  # addnoforce (managed), unsub, remove, or released
        "last_run_id": "bigint not null",
        # Mailjet's SubscribedAt of the membership the sync made, as the first extract after it showed it:
        # a later one means the person subscribed again by themselves.
        "mailjet_subscribed_at": TS,
    },
}


def table(name: str) -> str:
    """The qualified name of a `mailjet_sync` table or view."""
    return f"{SYNC_DATASET}.{name}"


def create_tables(client: SqlClientBase[Any]) -> None:
    """Create the dataset and any missing table; add to an existing table the columns it lacks."""
    client.execute_sql(f"create schema if not exists {SYNC_DATASET}")
    existing = all_columns(client, SYNC_DATASET)
    for name, columns in TABLES.items():
        if name not in existing:
            body = ", ".join(f'"{column}" {kind}' for column, kind in columns.items())
            client.execute_sql(f"create table if not exists {table(name)} ({body})")
            continue
        for column, kind in columns.items():
            if column not in existing[name]:  # added since: nullable, whatever the spec says
                client.execute_sql(
                    f'alter table {table(name)} add column "{column}" {kind.replace(" not null", "")}'
                )
