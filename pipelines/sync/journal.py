"""What an apply writes as it sends (SQL only, no HTTP): `sync_jobs`, each job as soon as Mailjet accepted
it; `sync_changelog`, `sync_rejections` and `sync_snapshot`, how each job went; and one line on stderr as
each job starts and ends."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from destinations.mailjet_lists import Batch, Change
from pipelines.logs import console
from pipelines.models import dialect_of, render
from pipelines.sync.tables import table
from pipelines.warehouse import Warehouse
from pipelines.warehouse.arrow import insert_arrow


class ApplyProgress:
    """One line on stderr as each job starts and as it ends, with how far the apply has got."""

    def __init__(self) -> None:
        self.total = 0  # changes to send in this apply; 0 while resuming an earlier one
        self.sent = 0
        self.since: dict[int, float] = {}

    def begin(self, total: int) -> None:
        self.total, self.sent = total, 0

    def started(self, list_id: int, action: str, job_id: int, contacts: int) -> None:
        self.since[job_id] = time.monotonic()
        console().info(
            f"mailjet-elt apply: job {job_id} started: {action} for {contacts:,} contact"
            f"{'' if contacts == 1 else 's'} of list {list_id}; waiting for Mailjet to finish it"
        )

    def ended(self, batch: Batch) -> None:
        outcomes: dict[str, int] = {}
        for item in batch.changes:
            outcomes[item.outcome] = outcomes.get(item.outcome, 0) + 1
        self.sent += len(batch.changes)
        took = time.monotonic() - self.since.pop(batch.job_id, time.monotonic())
        what = ", ".join(f"{n:,} {outcome}" for outcome, n in sorted(outcomes.items()))
        where = f"; {self.sent:,} of {self.total:,} changes sent" if self.total else ""
        name = f"job {batch.job_id} {batch.status} after {took:.1f} s" if batch.job_id else "no job"
        split = (
            f"; refused whole by Mailjet, sent in {len(batch.more_jobs) + 1:,} parts with "
            f"{batch.split_requests:,} more request{'' if batch.split_requests == 1 else 's'}"
            if batch.split_requests
            else ""
        )
        console().info(
            f"mailjet-elt apply: {name}: {batch.action} on list {batch.list_id}: {what}{where}{split}"
        )


class JobJournal:
    """`sync_jobs`: each job is written (and committed) as soon as Mailjet accepted it, before it is waited
    for; a batch sent again after a stop finds its job here."""

    def __init__(self, warehouse: Warehouse, progress: ApplyProgress) -> None:
        self.warehouse = warehouse
        self.progress = progress

    def find(self, key: str) -> tuple[int, str] | None:
        with self.warehouse.pipeline.sql_client() as client:
            found = client.execute_sql(
                f"select job_id, resource from {table('sync_jobs')} where batch_key = %s "
                "order by started_at desc limit 1",
                key,
            )
        if not found:
            return None
        job_id, resource = found[0]
        console().info(f"mailjet-elt apply: job {job_id} was started before the stop: waiting for it")
        return int(job_id), str(resource)

    def intend(self, key: str, list_id: int, action: str, rows: Sequence[Mapping[str, Any]]) -> bool:
        with self.warehouse.pipeline.sql_client() as client, client.begin_transaction():
            found = client.execute_sql(
                f"select count(*) from {table('sync_intents')} where batch_key = %s", key
            )
            if found and int(found[0][0]):
                console().info(
                    f"mailjet-elt apply: a batch of {action} for list {list_id} was sent before the stop, "
                    "its job unknown: reading the list to send only what it does not show yet"
                )
                return True
            client.execute_sql(
                f"insert into {table('sync_intents')} (batch_key, run_id, list_id, action, contacts, "
                "intended_at) values (%s, %s, %s, %s, %s, %s)",
                key,
                int(rows[0]["run_id"]),
                list_id,
                action,
                len(rows),
                datetime.now(UTC),
            )
        return False

    def started(
        self,
        key: str,
        resource: str,
        job_id: int,
        list_id: int,
        action: str,
        rows: Sequence[Mapping[str, Any]],
    ) -> None:
        with self.warehouse.pipeline.sql_client() as client, client.begin_transaction():
            client.execute_sql(
                f"insert into {table('sync_jobs')} (job_id, resource, batch_key, run_id, list_id, action, "
                "contacts, started_at) values (%s, %s, %s, %s, %s, %s, %s, %s)",
                job_id,
                resource,
                key,
                int(rows[0]["run_id"]),
                list_id,
                action,
                len(rows),
                datetime.now(UTC),
            )
        self.progress.started(list_id, action, job_id, len(rows))


class Recorder:
    """Writes how each job went, in one transaction per job: the changelog (once per change, so a
    resent batch adds nothing), Mailjet's refusals, and what the sync now manages."""

    def __init__(self, warehouse: Warehouse, jobs: list[int], progress: ApplyProgress | None = None) -> None:
        self.warehouse = warehouse
        self.jobs = jobs
        self.progress = progress

    def __call__(self, batch: Batch) -> None:
        if batch.job_id:
            self.jobs.append(batch.job_id)
        self.jobs.extend(batch.more_jobs)
        self._record(batch)
        if self.progress is not None:
            self.progress.ended(batch)

    def _record(self, batch: Batch) -> None:
        at = datetime.now(UTC)
        kept = [c for c in batch.changes if c.outcome == "skipped"]
        changes = pa.table(
            {
                "run_id": [c.run_id for c in batch.changes],
                "audience": [c.audience for c in batch.changes],
                "list_id": [c.list_id for c in batch.changes],
                "email": [c.email for c in batch.changes],
                "action": [c.action for c in batch.changes],
                "reason": [c.reason for c in batch.changes],
                "job_id": [c.job_id for c in batch.changes],
                "outcome": [c.outcome for c in batch.changes],
                "error": [c.error for c in batch.changes],
                "at": pa.array([at] * len(batch.changes), pa.timestamp("us", tz="UTC")),
            }
        )
        with self.warehouse.pipeline.sql_client() as client, client.begin_transaction():
            client.execute_sql("drop table if exists _changes")
            client.execute_sql(
                "create temporary table _changes (run_id bigint, audience varchar, list_id bigint, "
                "email varchar, "
                "action varchar, reason varchar, job_id bigint, outcome varchar, error varchar, "
                '"at" timestamp with time zone)'
            )
            insert_arrow(client, "_changes", changes)
            client.execute_sql(
                f"insert into {table('sync_changelog')} select * from _changes ch where not exists (select 1 "
                f"from {table('sync_changelog')} l where l.run_id = ch.run_id and l.email = ch.email and "
                "l.action = ch.action)"
            )
            client.execute_sql(
                f"insert into {table('sync_rejections')} (run_id, audience, list_id, email, stage, reason, "
                "detail, \"at\") select run_id, audience, list_id, email, 'apply', "
                # A contact refused with no job was never sent: a property value its definition cannot take.
                "case when outcome = 'refused' and job_id is null then 'property_value_invalid' "
                "when outcome = 'refused' then 'refused_by_mailjet' else 'job_failed' end, "
                'error, "at" '
                "from _changes ch where outcome not in ('done', 'skipped') and not exists (select 1 from "
                f"{table('sync_rejections')} r where r.run_id = ch.run_id and r.email = ch.email and "
                "r.stage = 'apply')"
            )
            client.execute_sql(
                f"update {table('sync_snapshot')} set managed_since = case when ch.action = 'addnoforce' and "
                f"{table('sync_snapshot')}.last_action <> 'addnoforce' then ch.\"at\" else "
                f"{table('sync_snapshot')}.managed_since end, mailjet_subscribed_at = case when ch.action = "
                f"'addnoforce' and {table('sync_snapshot')}.last_action <> 'addnoforce' then null else "
                f"{table('sync_snapshot')}.mailjet_subscribed_at end, last_action = ch.action, "
                "last_run_id = ch.run_id "
                "from _changes ch where ch.outcome = 'done' and ch.action <> 'update' and "
                f"{table('sync_snapshot')}.audience = ch.audience and {table('sync_snapshot')}.list_id = "
                f"ch.list_id and {table('sync_snapshot')}.email = lower(ch.email)"
            )
            if kept:
                self._record_kept(client, kept, at)
            client.execute_sql(
                f"insert into {table('sync_snapshot')} "
                "(audience, list_id, email, managed_since, last_action, "
                'last_run_id) select audience, list_id, lower(email), "at", action, run_id from _changes ch '
                "where ch.outcome = 'done' and ch.action = 'addnoforce' and not exists (select 1 from "
                f"{table('sync_snapshot')} s where s.audience = ch.audience and s.list_id = ch.list_id and "
                "s.email = lower(ch.email))"
            )

    @staticmethod
    def _record_kept(client: Any, kept: Sequence[Change], at: datetime) -> None:
        """Add the members a removal passed over (Mailjet showed them unsubscribed) to the durable record
        of unsubscriptions."""
        seen = pa.table(
            {
                "email": [c.email.strip().lower() for c in kept],
                "list_id": [c.list_id for c in kept],
                "unsubscribed_at": [c.unsubscribed_at for c in kept],
            }
        )
        client.execute_sql("drop table if exists _kept")
        client.execute_sql(
            "create temporary table _kept (email varchar, list_id bigint, unsubscribed_at varchar)"
        )
        insert_arrow(client, "_kept", seen)
        client.execute_sql(render("record_kept", dialect_of(client)), at.isoformat())
