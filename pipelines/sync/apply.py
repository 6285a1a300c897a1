"""`mailjet-elt apply`: send the latest plan of each audience to Mailjet through the `mailjet_lists`
destination, record how every change went (`sync_changelog`, `sync_rejections`, `sync_snapshot`) and
close the run (`sync_runs.status`: applied, or partial when Mailjet refused or failed some changes).

Guards first: a plan a guard stopped is not sent without --force (exit 3); a plan read from Mailjet data
older than the newest extract is never sent (plan again). A stopped apply resumes where it was: dlt keeps
the package of plan rows and how far its batches got; rows whose outcome is recorded are not sent again."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import dlt
import pyarrow as pa
from dlt.common.pipeline import get_dlt_pipelines_dir
from dlt.pipeline.exceptions import PipelineStepFailed

from destinations.mailjet_lists import ACTIONS, Batch, mailjet_lists, plan_resources
from pipelines.errors import EXIT_FAILURE, EXIT_GUARD, EXIT_USAGE, CommandError
from pipelines.interrupts import InterruptHandler, reraise_if_interrupted
from pipelines.logs import console
from pipelines.settings import DEFAULT_LOCK_WAIT_SECONDS
from pipelines.sync.config import resolve_sync_config
from pipelines.sync.plan import data_as_of
from pipelines.sync.tables import create_tables, table
from pipelines.warehouse import Warehouse, pipelines_dir, resume, writing
from pipelines.warehouse.arrow import fetch_arrow, insert_arrow
from pipelines.warehouse.datasets import API_DATASET
from sources.mailjet.client import MailjetHttp
from sources.mailjet.config import MailjetConfiguration, resolve_mailjet_config
from sources.mailjet.exceptions import MailjetConfigError, MailjetError
from sources.mailjet.paging import PageReader
from sources.mailjet.settings import PAGE_SIZE_MAX

LISTS_PIPELINE = "mailjet_lists"


class GuardStop(CommandError):
    """A guard stopped the apply (exit 3)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_GUARD)


@dataclass(frozen=True)
class AppliedRun:
    """How one audience run was applied."""

    run_id: int
    audience: str
    list_id: int
    list_name: str
    list_created: bool
    done: dict[str, int]  # action -> changes Mailjet confirmed
    refused: dict[str, int]  # Mailjet's error -> contacts refused
    failed: int  # changes of jobs that failed as a whole, or whose outcome the job left unknown
    skipped: int  # removals passed over: unsubscribed since the plan
    status: str  # applied | partial
    mismatches: list[dict[str, str]] = field(default_factory=list)  # confirmed, yet not what the list shows


@dataclass(frozen=True)
class ApplyResult:
    """What an apply did."""

    runs: list[AppliedRun]
    jobs: int
    requests: int
    seconds: float
    database: str | None
    already: list[str] = field(default_factory=list)  # audiences whose latest plan was applied before
    resumed: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """1 when Mailjet refused or failed part of a run (the report says what), else 0."""
        return EXIT_FAILURE if any(r.status != "applied" for r in self.runs) else 0


@dataclass
class PendingRun:
    run_id: int
    audience: str
    list_ref: str
    list_id: int | None
    list_name: str | None
    status: str
    guard: str
    guard_detail: str
    data_as_of: datetime | None
    properties: list[str]
    counts: dict[str, int] = field(default_factory=dict)


def apply(
    *,
    db: str,
    destination: str | None = None,
    audience: str | None = None,
    yes: bool = False,
    force: bool = False,
    confirm: Callable[[str], bool] | None = None,
    config: MailjetConfiguration | None = None,
    batch_size: int | None = None,
    interrupts: InterruptHandler | None = None,
    lock_wait: float = DEFAULT_LOCK_WAIT_SECONDS,
) -> ApplyResult:
    """Apply the latest plan of `audience` (default: every audience); what it did, or CommandError
    (GuardStop, exit 3, when a guard stops it). Without `yes`, `confirm` (default: a question on the
    terminal) must agree. `batch_size` defaults to `[sync] batch_size`."""
    try:
        config = config or resolve_mailjet_config()
    except MailjetConfigError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    batch_size = batch_size or resolve_sync_config().batch_size
    http = MailjetHttp.from_config(config)
    stop = interrupts or InterruptHandler("apply")
    started = time.monotonic()
    jobs: list[int] = []
    with writing(
        db, destination, "apply", API_DATASET, lock_wait, _say, interrupts=stop, loads=False
    ) as warehouse:
        progress = ApplyProgress()
        recorder = Recorder(warehouse, jobs, progress)
        journal = JobJournal(warehouse, progress)
        with warehouse.pipeline.sql_client() as client:
            create_tables(client)
            live = latest_unfinished(client)
        lists = dlt.pipeline(
            pipeline_name=LISTS_PIPELINE,
            pipelines_dir=str(pipelines_dir(db, destination) or get_dlt_pipelines_dir()),
            destination=mailjet_lists(
                http, recorder, batch_size, sendable=lambda run_id: run_id in live, jobs=journal
            ),
            dataset_name=LISTS_PIPELINE,
        )
        lists.config.runtime.intercept_signals = False  # a second Ctrl-C stops at once
        resumed = list(warehouse.resumed)
        # An apply stopped while sending: finish the batches it had started, from where they were; the
        # rows of a run a newer plan has superseded are not sent.
        _load(lists, stop, lambda: resumed.extend(resume(lists)))
        with warehouse.pipeline.sql_client() as client:
            superseded = client.execute_sql(
                f"select audience, run_id from {table('sync_runs')} r where status = 'applying' and run_id < "
                f"(select max(run_id) from {table('sync_runs')} l where l.audience = r.audience)"
            )
            for name, run_id in superseded or []:
                client.execute_sql(
                    f"update {table('sync_runs')} set status = 'superseded' where run_id = {int(run_id)}"
                )
                resumed.append(
                    f"the interrupted apply of {name}'s run {run_id} was superseded by a newer plan: its "
                    "unsent changes were dropped; the jobs it had started were waited for, and what "
                    "Mailjet did is in sync_changelog"
                )
        with warehouse.pipeline.sql_client() as client:
            create_tables(client)
            runs, already = latest_runs(client, audience)
            check_guards(runs, data_as_of(client), force)
            for run in runs:
                run.counts = pending_counts(client, run.run_id)
        total = sum(sum(r.counts.values()) for r in runs)
        if total and not yes:
            ask = confirm or _ask
            new = [r.list_ref for r in runs if r.list_id is None and sum(r.counts.values()) > 0]
            question = (
                f"Send {total:,} change{'' if total == 1 else 's'} to {len(runs)} Mailjet list"
                f"{'' if len(runs) == 1 else 's'} ("
                + ", ".join(f"{a} {sum(r.counts.get(a, 0) for r in runs):,}" for a in ACTIONS)
                + ")"
                + (f", creating the list{'s' if len(new) > 1 else ''} {', '.join(new)}" if new else "")
                + "?"
            )
            if not ask(question):
                raise CommandError("nothing was sent: not confirmed", EXIT_USAGE)
        created: set[int] = set()
        try:
            for run in runs:
                if run.list_id is None and sum(run.counts.values()) > 0:
                    run.list_id, run.list_name = create_list(http, run.list_ref)
                    created.add(run.run_id)
                if sum(run.counts.values()) > 0:
                    ensure_properties(http, run.properties)
        except MailjetError as exc:
            raise CommandError(f"nothing was sent: {exc}", EXIT_FAILURE) from None
        with warehouse.pipeline.sql_client() as client, client.begin_transaction():
            for run in runs:
                client.execute_sql(
                    f"update {table('sync_runs')} set status = 'applying', "
                    f"list_id = {int(run.list_id or 0)}, "
                    f"list_name = %s where run_id = {run.run_id}",
                    run.list_name,
                )
                client.execute_sql(
                    f"update {table('sync_plan')} set list_id = {int(run.list_id or 0)} "
                    f"where run_id = {run.run_id}"
                )
        if total:
            progress.begin(total)
            ids = [r.run_id for r in runs]
            _load(
                lists, stop, lambda: lists.run(plan_resources({a: rows(warehouse, ids, a) for a in ACTIONS}))
            )
        with warehouse.pipeline.sql_client() as client:
            confirmed = {run.run_id: confirmed_changes(client, run.run_id) for run in runs}
        try:
            checked = {run.run_id: verify(http, int(run.list_id or 0), confirmed[run.run_id]) for run in runs}
        except MailjetError as exc:
            raise CommandError(
                f"the changes were sent and recorded, but the lists could not be read again to verify them "
                f"({exc}); run `mailjet-elt extract` and `plan`: a change that did not happen is planned "
                "again",
                EXIT_FAILURE,
            ) from None
        with warehouse.pipeline.sql_client() as client, client.begin_transaction():
            applied = [close_run(client, run, run.run_id in created, checked[run.run_id]) for run in runs]
    return ApplyResult(
        runs=applied,
        jobs=len(jobs),
        requests=http.stats.requests,
        seconds=time.monotonic() - started,
        database=db if destination in (None, "duckdb") else None,
        already=already,
        resumed=resumed,
    )


def _load(lists: Any, stop: InterruptHandler, step: Callable[[], Any]) -> None:
    try:
        step()
    except PipelineStepFailed as exc:
        reraise_if_interrupted(exc)
        cause = exc.exception
        raise CommandError(
            f"sending to Mailjet failed ({cause}); every change Mailjet confirmed is recorded in "
            "mailjet_sync.sync_changelog. Fix the cause and run `apply` again: it resumes where it stopped",
            EXIT_FAILURE,
        ) from None


def latest_runs(client: Any, audience: str | None) -> tuple[list[PendingRun], list[str]]:
    """The latest run of each audience still to apply (planned, or applying when a stop interrupted it),
    and the audiences whose latest run was applied already."""
    where = "" if audience is None else "and r.audience = %s"
    args = () if audience is None else (audience,)
    found = client.execute_sql(
        "select run_id, audience, list_ref, list_id, list_name, status, guard, guard_detail, data_as_of, "
        f"properties from {table('sync_runs')} r where run_id = (select max(run_id) from "
        f"{table('sync_runs')} l where l.audience = r.audience) {where} order by audience",
        *args,
    )
    if not found:
        raise CommandError(
            "no plan to apply"
            + (f" for audience {audience!r}" if audience else "")
            + ": run `mailjet-elt plan` first",
            EXIT_USAGE,
        )
    runs, already = [], []
    for run_id, name, ref, list_id, list_name, status, guard, detail, as_of, props in found:
        if status in ("applied", "partial"):
            already.append(str(name))
            continue
        runs.append(
            PendingRun(
                int(run_id),
                str(name),
                str(ref),
                None if list_id is None else int(list_id),
                None if list_name is None else str(list_name),
                str(status),
                str(guard),
                str(detail),
                as_of,
                [p for p in str(props or "").split(",") if p],
            )
        )
    return runs, already


def check_guards(runs: list[PendingRun], newest: datetime | None, force: bool) -> None:
    """GuardStop when a run must not be sent: a guard stopped it (unless `force`), or its data is older
    than the newest extract (never)."""
    stale = [r for r in runs if _stale(r.data_as_of, newest)]
    if stale:
        raise GuardStop(
            f"the plan of {', '.join(r.audience for r in stale)} read Mailjet data older than the newest "
            "extract; "
            "a plan is only sent on the data it was made from: run `mailjet-elt plan` again, then apply"
        )
    stopped = [r for r in runs if r.guard == "stop" and r.status == "planned"]
    if stopped and not force:
        said = "; ".join(
            f"{r.audience}: "
            + ", ".join(
                f"{g['name']} ({g['detail']})" for g in json.loads(r.guard_detail) if g["verdict"] == "stop"
            )
            for r in stopped
        )
        raise GuardStop(f"stopped by a guard: {said}. Nothing was sent; to send it anyway, apply --force")


def latest_unfinished(client: Any) -> set[int]:
    """The runs an apply may send: each audience's latest, while it is planned or being applied, made
    from the newest extract."""
    newest = data_as_of(client)
    found = client.execute_sql(
        f"select run_id, data_as_of from {table('sync_runs')} r where status in ('planned', 'applying') "
        f"and run_id = (select max(run_id) from {table('sync_runs')} l where l.audience = r.audience)"
    )
    return {int(r[0]) for r in found or [] if not _stale(r[1], newest)}


def _stale(as_of: datetime | None, newest: datetime | None) -> bool:
    return newest is not None and (as_of is None or as_of < newest)


def pending_counts(client: Any, run_id: int) -> dict[str, int]:
    """Changes of the run not yet recorded as sent, per action."""
    found = client.execute_sql(
        f"select action, count(*) from {table('sync_plan')} p where run_id = {run_id} and not exists ("
        f"select 1 from {table('sync_changelog')} c where c.run_id = p.run_id and c.email = p.email and "
        "c.action = p.action) group by action"
    )
    return {str(a): int(n) for a, n in found or []}


def rows(warehouse: Warehouse, run_ids: list[int], action: str) -> Iterator[dict[str, Any]]:
    """The plan rows of `action` not yet recorded as sent, by list and email."""
    with warehouse.pipeline.sql_client() as client:
        found = fetch_arrow(
            client,
            "select run_id, audience, list_id, email, contact_id, reason, properties "
            f"from {table('sync_plan')} p "
            f"where run_id in ({', '.join(str(i) for i in run_ids)}) and action = '{action}' and not exists ("
            f"select 1 from {table('sync_changelog')} c where c.run_id = p.run_id and c.email = p.email "
            "and c.action = p.action) order by list_id, email",
        )
    yield from found.to_pylist()


def create_list(http: MailjetHttp, ref: str) -> tuple[int, str]:
    """A new Mailjet list named `ref` for an audience whose list the extract did not see. One Mailjet has
    since (names are unique, whatever their case) is used only while it has no member (one this command
    created before it was stopped): members the sync did not add must never count as its own."""
    if ref.isdigit():
        raise CommandError(
            f"list {ref}: Mailjet has no list of that ID in the extract; name the list in audiences.sql to "
            "have apply create it, or extract and plan again",
            EXIT_USAGE,
        )
    for row in http.get("contactslist", {"Name": ref, "Limit": 10}):
        if str(row.get("Name", "")).lower() == ref.lower() and not row.get("IsDeleted"):
            if http.count("listrecipient", {"ContactsList": int(row["ID"])}):
                raise GuardStop(
                    f"list {row.get('Name')!r} exists in Mailjet with members, but the extract did not see "
                    "it when the plan was made: run extract and plan again, then apply"
                )
            return int(row["ID"]), str(row.get("Name"))
    made = http.post("contactslist", {"Name": ref})
    console().info(f"mailjet-elt apply: created the list {ref!r} (ID {made[0]['ID']}) in Mailjet")
    return int(made[0]["ID"]), ref


def ensure_properties(http: MailjetHttp, names: list[str]) -> None:
    """Create the contact property definitions Mailjet lacks (as text), so their values are accepted."""
    if not names:
        return
    known = {str(m.get("Name", "")).lower() for m in _all(http, "contactmetadata", {})}
    for name in names:
        if name.lower() not in known:
            http.post("contactmetadata", {"Name": name, "Datatype": "str", "NameSpace": "static"})
            console().info(f"mailjet-elt apply: created the contact property {name!r} in Mailjet")


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
        console().info(f"mailjet-elt apply: {name}: {batch.action} on list {batch.list_id}: {what}{where}")


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
        self._record(batch)
        if self.progress is not None:
            self.progress.ended(batch)

    def _record(self, batch: Batch) -> None:
        at = datetime.now(UTC)
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
                "case when outcome = 'refused' then 'refused_by_mailjet' else 'job_failed' end, "
                'error, "at" '
                "from _changes ch where outcome <> 'done' and not exists (select 1 from "
                f"{table('sync_rejections')} r where r.run_id = ch.run_id and r.email = ch.email and "
                "r.stage = 'apply')"
            )
            client.execute_sql(
                f"update {table('sync_snapshot')} set managed_since = case when ch.action = 'addnoforce' and "
                f"{table('sync_snapshot')}.last_action <> 'addnoforce' then ch.\"at\" else "
                f"{table('sync_snapshot')}.managed_since end, last_action = ch.action, "
                "last_run_id = ch.run_id "
                "from _changes ch where ch.outcome = 'done' and ch.action <> 'update' and "
                f"{table('sync_snapshot')}.audience = ch.audience and {table('sync_snapshot')}.list_id = "
                f"ch.list_id and {table('sync_snapshot')}.email = lower(ch.email)"
            )
            client.execute_sql(
                f"insert into {table('sync_snapshot')} "
                "(audience, list_id, email, managed_since, last_action, "
                'last_run_id) select audience, list_id, lower(email), "at", action, run_id from _changes ch '
                "where ch.outcome = 'done' and ch.action = 'addnoforce' and not exists (select 1 from "
                f"{table('sync_snapshot')} s where s.audience = ch.audience and s.list_id = ch.list_id and "
                "s.email = lower(ch.email))"
            )


def confirmed_changes(client: Any, run_id: int) -> list[tuple[str, str]]:
    """(email, action) of every change of the run Mailjet confirmed."""
    found = client.execute_sql(
        f"select lower(email), action from {table('sync_changelog')} where run_id = {run_id} "
        "and outcome = 'done'"
    )
    return [(str(e), str(a)) for e, a in found or []]


def verify(http: MailjetHttp, list_id: int, changes: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Read the list again and return the confirmed changes it does not show: an add that is not a member,
    an unsubscribe still subscribed, a removal still a member (updates change properties only)."""
    touched = [(e, a) for e, a in changes if a != "update"]
    if not touched:
        return []
    emails = {int(c["ID"]): str(c["Email"]).lower() for c in _all(http, "contact", {"ContactsList": list_id})}
    state = {
        emails.get(int(r["ContactID"]), ""): bool(r.get("IsUnsubscribed"))
        for r in _all(http, "listrecipient", {"ContactsList": list_id})
    }
    wrong = []
    for email, action in touched:
        member, unsubscribed = email in state, state.get(email)
        found = "not a member" if not member else "unsubscribed" if unsubscribed else "subscribed"
        if (
            (action == "addnoforce" and not member)
            or (action == "unsub" and not unsubscribed)
            or (action == "remove" and member)
        ):
            wrong.append({"email": email, "action": action, "found": found})
    return wrong


def _all(http: MailjetHttp, resource: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every row of a listing, through the source's pager."""
    return PageReader(http, PAGE_SIZE_MAX, 1).rows(resource, params)


def close_run(client: Any, run: PendingRun, created: bool, wrong: list[dict[str, str]]) -> AppliedRun:
    """Count the run's outcomes and close it: applied, or partial."""
    done: dict[str, int] = {}
    refused: dict[str, int] = {}
    failed = skipped = 0
    for action, outcome, error, n in (
        client.execute_sql(
            f"select action, outcome, error, count(*) from {table('sync_changelog')} "
            f"where run_id = {run.run_id} "
            "group by 1, 2, 3"
        )
        or []
    ):
        if outcome == "done":
            done[str(action)] = done.get(str(action), 0) + int(n)
        elif outcome == "refused":
            refused[str(error)] = refused.get(str(error), 0) + int(n)
        elif outcome == "skipped":
            skipped += int(n)
        else:
            failed += int(n)
    status = "applied" if not refused and not failed and not wrong else "partial"
    client.execute_sql(
        f"update {table('sync_runs')} set status = '{status}', applied_at = %s, done = {sum(done.values())}, "
        f"refused = {sum(refused.values())}, failed = {failed}, mismatches = {len(wrong)}, "
        f"mismatch_detail = %s where run_id = {run.run_id}",
        datetime.now(UTC),
        json.dumps(wrong[:20]),
    )
    return AppliedRun(
        run.run_id,
        run.audience,
        int(run.list_id or 0),
        str(run.list_name or run.list_ref),
        created,
        done,
        refused,
        failed,
        skipped,
        status,
        wrong,
    )


def _ask(question: str) -> bool:
    if not sys.stdin.isatty():
        raise CommandError(
            f"{question} There is no terminal to ask: pass --yes to send without asking", EXIT_USAGE
        )
    answer = input(f"{question} [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def _say(text: str) -> None:
    console().warning(f"mailjet-elt apply: {text}")
