"""The runs an apply sends, read and closed in `mailjet_sync` (SQL only, no HTTP): each audience's latest
run and its pending changes, the plan rows still to send, the changes Mailjet confirmed, the runs a newer
plan superseded or whose audience left the audiences file, and a run's outcomes counted when it is
closed. An apply only ever sends runs of audiences its audiences file defines."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from dlt.destinations.sql_client import SqlClientBase

from destinations.mailjet_lists import Action, Datatype, Mismatch
from pipelines.errors import EXIT_USAGE, CommandError
from pipelines.models import dialect_of, render
from pipelines.sync.plan import data_as_of
from pipelines.sync.tables import table
from pipelines.warehouse import Warehouse
from pipelines.warehouse.arrow import fetch_arrow

# planned (by plan) -> applying -> applied | partial; superseded: a run that will not be sent (a newer plan
# of its audience came while an apply of it was interrupted, or its audience left the audiences file).
Status = Literal["planned", "applying", "applied", "partial", "superseded"]
Client = SqlClientBase[Any]


@dataclass
class PendingRun:
    """An audience's latest run, still to apply."""

    run_id: int
    audience: str
    list_ref: str
    list_id: int | None
    list_name: str | None
    status: Status
    guard: str
    guard_detail: str
    data_as_of: datetime | None
    properties: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    property_types: dict[str, Datatype] = field(default_factory=dict)  # from the audience's columns
    list_applied_at: datetime | None = None  # when another run's apply last changed the list
    planned_at: datetime | None = None

    @property
    def pending(self) -> int:
        """Changes still to send."""
        return sum(self.counts.values())


@dataclass(frozen=True)
class Tally:
    """A run's outcomes, counted from its changelog."""

    done: dict[str, int]  # action -> changes Mailjet confirmed
    refused: dict[str, int]  # Mailjet's error -> contacts refused
    failed: int  # changes of jobs that failed as a whole, or whose outcome the job left unknown
    skipped: int  # removals passed over: unsubscribed since the plan


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
    status: Status  # applied | partial
    mismatches: list[Mismatch] = field(default_factory=list)  # confirmed, yet not what the list shows


def stale(as_of: datetime | None, newest: datetime | None) -> bool:
    """Whether a plan made from data `as_of` is older than the newest extract."""
    return newest is not None and (as_of is None or as_of < newest)


def stale_for_list(as_of: datetime | None, list_applied_at: datetime | None) -> bool:
    """Whether a plan made from data `as_of` was extracted before another apply to its list ended."""
    return list_applied_at is not None and (as_of is None or as_of < list_applied_at)


def latest_runs(
    client: Client, audience: str | None, defined: Collection[str]
) -> tuple[list[PendingRun], list[str]]:
    """The latest run of each audience of the file (`defined`) still to apply (planned, or applying when a
    stop interrupted it), with when another apply last changed its list; and the audiences whose latest
    run was applied already. Runs of audiences the file no longer defines are never sent."""
    where = "" if audience is None else "and r.audience = %s"
    args = () if audience is None else (audience,)
    found = client.execute_sql(
        "select run_id, audience, list_ref, list_id, list_name, status, guard, guard_detail, data_as_of, "
        f"properties, property_types, planned_at from {table('sync_runs')} r where run_id = "
        f"(select max(run_id) from {table('sync_runs')} l where l.audience = r.audience) {where} "
        "order by audience",
        *args,
    )
    found = [row for row in found or [] if row[1] in defined and row[5] != "superseded"]
    if not found:
        raise CommandError(
            "no plan to apply"
            + (f" for audience {audience!r}" if audience else " for the audiences of the file")
            + ": run `mailjet-elt plan` first",
            EXIT_USAGE,
        )
    runs, already = [], []
    for run_id, name, ref, list_id, list_name, status, guard, detail, as_of, props, types, at in found:
        if status in ("applied", "partial"):
            already.append(str(name))
            continue
        run = PendingRun(
            int(run_id),
            str(name),
            str(ref),
            None if list_id is None else int(list_id),
            None if list_name is None else str(list_name),
            status,
            str(guard),
            str(detail),
            as_of,
            [p for p in str(props or "").split(",") if p],
            property_types=json.loads(types) if types else {},
            planned_at=at,
        )
        run.list_applied_at = list_applied_at(client, run)
        runs.append(run)
    return runs, already


def list_applied_at(client: Client, run: PendingRun) -> datetime | None:
    """When the latest apply of another run that sent changes to the run's list ended."""
    rows = client.execute_sql(
        render("list_applied_at", dialect_of(client)), run.run_id, run.list_id, run.list_ref
    )
    return rows[0][0] if rows and isinstance(rows[0][0], datetime) else None


def latest_unfinished(client: Client, defined: Collection[str]) -> set[int]:
    """The runs an apply may send: each audience's latest, for the audiences of the file (`defined`),
    while it is planned or being applied, made from the newest extract."""
    newest = data_as_of(client)
    found = client.execute_sql(
        f"select run_id, data_as_of, audience from {table('sync_runs')} r where status in ('planned', "
        f"'applying') and run_id = (select max(run_id) from {table('sync_runs')} l where "
        "l.audience = r.audience)"
    )
    return {int(r[0]) for r in found or [] if r[2] in defined and not stale(r[1], newest)}


def supersede_interrupted(client: Client) -> list[str]:
    """Mark superseded each run an apply was sending when a newer plan came for its audience; what was
    done, one sentence per run."""
    superseded = client.execute_sql(
        f"select audience, run_id from {table('sync_runs')} r where status = 'applying' and run_id < "
        f"(select max(run_id) from {table('sync_runs')} l where l.audience = r.audience)"
    )
    said = []
    for name, run_id in superseded or []:
        client.execute_sql(render("run_supersede", dialect_of(client)), int(run_id))
        said.append(
            f"the interrupted apply of {name}'s run {run_id} was superseded by a newer plan: its "
            "unsent changes were dropped; the jobs it had started were waited for, and what "
            "Mailjet did is in sync_changelog"
        )
    return said


def supersede_removed(client: Client, defined: Collection[str]) -> list[str]:
    """Mark superseded every run still to apply (planned, or being applied) of an audience the file no
    longer defines (removed, or renamed); what was done, one sentence per audience.

    Its unsent changes are never sent: the runs an apply may send are those of the file's audiences. A run
    that was being applied when it stopped had started jobs: the next apply still waits for each of them
    and records how it ended (the resumed package goes through the destination, which finds each started
    job in `sync_jobs` by its batch, the same only with the same batch size, and sends no new batch of a
    run that is not sendable), so the changelog and the snapshot tell what Mailjet did."""
    pending = client.execute_sql(render("pending_removed", dialect_of(client))) or []
    gone: dict[str, list[tuple[int, str]]] = {}
    for run_id, name, status in pending:
        if name not in defined:
            gone.setdefault(str(name), []).append((int(run_id), str(status)))
    said = []
    for name, runs in gone.items():
        for run_id, _ in runs:
            client.execute_sql(render("run_supersede", dialect_of(client)), run_id)
        started = [run_id for run_id, status in runs if status == "applying"]
        said.append(
            f"{name}: no longer in the audiences file; its unapplied plan{'s' if len(runs) > 1 else ''} "
            f"(run {', '.join(str(r) for r, _ in runs)}) marked superseded: never sent"
            + (
                f"; the jobs run {', '.join(str(r) for r in started)} had started are waited for and "
                "recorded by the next apply (mailjet_sync.sync_changelog)"
                if started
                else ""
            )
        )
    return said


def pending_counts(client: Client, run_id: int) -> dict[str, int]:
    """Changes of the run not yet recorded as sent, per action."""
    found = client.execute_sql(
        f"select action, count(*) from {table('sync_plan')} p where run_id = {run_id} and not exists ("
        f"select 1 from {table('sync_changelog')} c where c.run_id = p.run_id and c.email = p.email and "
        "c.action = p.action) group by action"
    )
    return {str(a): int(n) for a, n in found or []}


def mark_applying(client: Client, runs: Iterable[PendingRun]) -> None:
    """The runs are being applied, to their lists (created by now)."""
    for run in runs:
        client.execute_sql(
            f"update {table('sync_runs')} set status = 'applying', "
            f"list_id = {int(run.list_id or 0)}, "
            f"list_name = %s where run_id = {run.run_id}",
            run.list_name,
        )
        client.execute_sql(
            f"update {table('sync_plan')} set list_id = {int(run.list_id or 0)} where run_id = {run.run_id}"
        )


def plan_rows(warehouse: Warehouse, run_ids: list[int], action: Action) -> Iterator[dict[str, Any]]:
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


def failed_changes(client: Client, run_id: int) -> list[tuple[str, str, str | None]]:
    """(email, action, error) of every change of the run that failed."""
    found = client.execute_sql(
        f"select lower(email), action, error from {table('sync_changelog')} where run_id = {run_id} "
        "and outcome = 'failed' order by 1, 2"
    )
    return [(str(e), str(a), None if m is None else str(m)) for e, a, m in found or []]


def tally(counted: Iterable[Sequence[Any]]) -> Tally:
    """A run's outcomes from its changelog counted by (action, outcome, error)."""
    done: dict[str, int] = {}
    refused: dict[str, int] = {}
    failed = skipped = 0
    for action, outcome, error, n in counted:
        if outcome == "done":
            done[str(action)] = done.get(str(action), 0) + int(n)
        elif outcome == "refused":
            refused[str(error)] = refused.get(str(error), 0) + int(n)
        elif outcome == "skipped":
            skipped += int(n)
        else:
            failed += int(n)
    return Tally(done, refused, failed, skipped)


def close_run(client: Client, run: PendingRun, created: bool, wrong: list[Mismatch]) -> AppliedRun:
    """Count the run's outcomes and close it: applied, or partial."""
    counted = tally(
        client.execute_sql(
            f"select action, outcome, error, count(*) from {table('sync_changelog')} "
            f"where run_id = {run.run_id} "
            "group by 1, 2, 3"
        )
        or []
    )
    status: Status = "applied" if not counted.refused and not counted.failed and not wrong else "partial"
    client.execute_sql(
        f"update {table('sync_runs')} set status = '{status}', applied_at = %s, "
        f"done = {sum(counted.done.values())}, refused = {sum(counted.refused.values())}, "
        f"failed = {counted.failed}, mismatches = {len(wrong)}, "
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
        counted.done,
        counted.refused,
        counted.failed,
        counted.skipped,
        status,
        wrong,
    )
