"""`mailjet-elt apply`: send the latest plan of each audience to Mailjet through the `mailjet_lists`
destination, record how every change went (`sync_changelog`, `sync_rejections`, `sync_snapshot`) and
close the run (`sync_runs.status`: applied, or partial when Mailjet refused or failed some changes).

Only the audiences of the audiences file (the one given, else the one `plan` reads by default) are sent:
the plan of an audience the file no longer defines is never sent. Guards first: a plan a guard stopped is
not sent without --force (exit 3); a plan read from Mailjet data older than the newest extract, or
extracted before another apply changed its list, is never sent (extract and plan again). A stopped apply
resumes where it was: dlt keeps the package of plan rows and how far its batches got; rows whose outcome
is recorded are not sent again."""

from __future__ import annotations

import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import dlt
from dlt.pipeline.exceptions import PipelineStepFailed

from destinations.mailjet_lists import (
    ACTIONS,
    ListNotEmpty,
    ListNotFound,
    Patience,
    create_list,
    ensure_properties,
    mailjet_lists,
    plan_resources,
    recorded_mismatches,
)
from pipelines.errors import EXIT_FAILURE, EXIT_USAGE, CommandError
from pipelines.interrupts import InterruptHandler, reraise_if_interrupted
from pipelines.logs import console
from pipelines.run_report import applied_counts
from pipelines.settings import DEFAULT_LOCK_WAIT_SECONDS
from pipelines.sync.apply_guards import GuardStop, check_guards
from pipelines.sync.audiences import audiences_path, choose, read_audiences
from pipelines.sync.config import resolve_sync_config
from pipelines.sync.guards import ago
from pipelines.sync.journal import ApplyProgress, JobJournal, Recorder
from pipelines.sync.plan import data_as_of
from pipelines.sync.runs import (
    AppliedRun,
    PendingRun,
    close_run,
    failed_changes,
    latest_runs,
    latest_unfinished,
    mark_applying,
    pending_counts,
    plan_rows,
    supersede_interrupted,
)
from pipelines.sync.tables import create_tables
from pipelines.warehouse import Warehouse, pipelines_dir
from pipelines.warehouse.datasets import API_DATASET
from pipelines.warehouse.lock import WriterLock
from pipelines.warehouse.paths import require_database
from pipelines.warehouse.resume import resume
from pipelines.warehouse.writing import writing
from sources.mailjet.client import MailjetHttp
from sources.mailjet.config import MailjetConfiguration, resolve_mailjet_config
from sources.mailjet.exceptions import MailjetConfigError, MailjetError

LISTS_PIPELINE = "mailjet_lists"


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


def apply(
    *,
    db: str,
    destination: str | None = None,
    audience: str | None = None,
    audiences: str | None = None,
    yes: bool = False,
    force: bool = False,
    confirm: Callable[[str], bool] | None = None,
    config: MailjetConfiguration | None = None,
    batch_size: int | None = None,
    interrupts: InterruptHandler | None = None,
    lock_wait: float = DEFAULT_LOCK_WAIT_SECONDS,
    held: WriterLock | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ApplyResult:
    """Apply the latest plan of `audience` (default: every audience of the file `audiences`, resolved as
    `plan` resolves it); what it did, or CommandError
    (GuardStop, exit 3, when a guard stops it). Without `yes`, `confirm` (default: a question on the
    terminal) must agree. `batch_size` defaults to `[sync] batch_size`. `held`: the writer lock, taken
    already by the caller (`run`). `sleep` makes the waits between the reads of a list that does not
    show a completed job's changes yet (for up to `[sync] read_back_seconds`)."""
    try:
        config = config or resolve_mailjet_config()
    except MailjetConfigError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    sync = resolve_sync_config()
    batch_size = batch_size or sync.batch_size
    patience = Patience(sync.read_back_seconds, sleep)
    source = audiences_path(audiences)
    in_file = read_audiences(source)
    choose(in_file, audience, source)  # an audience the file defines
    require_database(db, destination, "apply")  # nothing was planned there; never create it
    defined = {a.name for a in in_file}
    http = MailjetHttp.from_config(config)
    stop = interrupts or InterruptHandler("apply")
    started = time.monotonic()
    jobs: list[int] = []
    with writing(
        db, destination, "apply", API_DATASET, lock_wait, _say, interrupts=stop, loads=False, held=held
    ) as warehouse:
        progress = ApplyProgress()
        lists = _lists_pipeline(
            warehouse, db, destination, http, (batch_size, patience), jobs, progress, defined
        )
        resumed = list(warehouse.resumed)
        # An apply stopped while sending: finish the batches it had started, from where they were; the
        # rows of a run a newer plan has superseded are not sent.
        _load(lambda: resumed.extend(resume(lists)))
        with warehouse.pipeline.sql_client() as client:
            resumed.extend(supersede_interrupted(client))
        forcing = "apply --force" + ("" if audiences is None else f" --audiences {shlex.quote(str(source))}")
        runs, already = _pending(warehouse, audience, defined, force, forcing)
        warehouse.let_go()  # the rest asks, sends and waits: readers may open the file meanwhile
        total = sum(run.pending for run in runs)
        if total and not yes:
            _confirm(runs, total, confirm or _ask)
        created = _prepare_lists(http, runs)
        with warehouse.pipeline.sql_client() as client, client.begin_transaction():
            mark_applying(client, runs)
        if total:
            progress.begin(total)
            _send(lists, warehouse, [r.run_id for r in runs])
        applied = _verify_and_close(warehouse, runs, created)
        warehouse.summary = applied_counts(applied)
    return ApplyResult(
        runs=applied,
        jobs=len(jobs),
        requests=http.stats.requests,
        seconds=time.monotonic() - started,
        database=db if destination in (None, "duckdb") else None,
        already=already,
        resumed=resumed,
    )


def _lists_pipeline(
    warehouse: Warehouse,
    db: str,
    destination: str | None,
    http: MailjetHttp,
    sending: tuple[int, Patience],
    jobs: list[int],
    progress: ApplyProgress,
    defined: set[str],
) -> dlt.Pipeline:
    """The dlt pipeline to the `mailjet_lists` destination, sending the runs an apply may send (of the
    audiences `defined` by the file) in batches of `sending` (its size, and how long a job's changes are
    read back)."""
    batch_size, patience = sending
    recorder = Recorder(warehouse, jobs, progress)
    journal = JobJournal(warehouse, progress)
    with warehouse.pipeline.sql_client() as client:
        create_tables(client)
        live = latest_unfinished(client, defined)
    lists = dlt.pipeline(
        pipeline_name=LISTS_PIPELINE,
        pipelines_dir=str(pipelines_dir(db, destination)),
        destination=mailjet_lists(
            http,
            recorder,
            batch_size,
            sendable=lambda run_id: run_id in live,
            jobs=journal,
            patience=patience,
        ),
        dataset_name=LISTS_PIPELINE,
    )
    lists.config.runtime.intercept_signals = False  # a second Ctrl-C stops at once
    return lists


def _send(lists: dlt.Pipeline, warehouse: Warehouse, run_ids: list[int]) -> None:
    """Load the unsent plan rows of the runs to the lists."""
    _load(lambda: lists.run(plan_resources({a: plan_rows(warehouse, run_ids, a) for a in ACTIONS})))


def _load(step: Callable[[], Any]) -> None:
    """Run a load to the lists; its failure as a CommandError that says how to resume."""
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


def _pending(
    warehouse: Warehouse, audience: str | None, defined: set[str], force: bool, forcing: str
) -> tuple[list[PendingRun], list[str]]:
    """The runs to apply (of the audiences `defined` by the file), past the guards (`forcing`: the command
    that sends a stopped run anyway), with their changes still to send; the audiences applied already."""
    with warehouse.pipeline.sql_client() as client:
        create_tables(client)
        runs, already = latest_runs(client, audience, defined)
        check_guards(runs, data_as_of(client), force, forcing)
        for run in runs:
            run.counts = pending_counts(client, run.run_id)
    return runs, already


def _confirm(runs: list[PendingRun], total: int, ask: Callable[[str], bool]) -> None:
    """CommandError unless `ask` agrees to send the changes (and create the lists). The question names
    each audience, its list, its changes and how long ago it was planned."""
    new = [r.list_ref for r in runs if r.list_id is None and r.pending > 0]
    question = (
        f"Send {total:,} change{'' if total == 1 else 's'} to {len(runs)} Mailjet list"
        f"{'' if len(runs) == 1 else 's'} ("
        + ", ".join(f"{a} {sum(r.counts.get(a, 0) for r in runs):,}" for a in ACTIONS)
        + ")"
        + (f", creating the list{'s' if len(new) > 1 else ''} {', '.join(new)}" if new else "")
        + "?"
    )
    if not ask("\n".join([question, *(_confirm_line(r, datetime.now(UTC)) for r in runs)])):
        raise CommandError("nothing was sent: not confirmed", EXIT_USAGE)


def _confirm_line(run: PendingRun, now: datetime) -> str:
    """One audience of the question: its list, its changes, the plan's age."""
    target = (
        f'list "{run.list_ref}" (created by this apply)'
        if run.list_id is None
        else f'list "{run.list_name or run.list_ref}" (ID {run.list_id})'
    )
    changes = ", ".join(f"{a} {run.counts[a]:,}" for a in ACTIONS if run.counts.get(a)) or "nothing"
    age = (
        ""
        if run.planned_at is None
        else f"; planned {ago((now - run.planned_at).total_seconds() / 3600)} ago"
    )
    return f"  {run.audience} -> {target}: {changes}{age}"


def _prepare_lists(http: MailjetHttp, runs: list[PendingRun]) -> set[int]:
    """Create the lists the runs lack and the contact properties Mailjet lacks; the runs whose list was
    created."""
    created: set[int] = set()
    try:
        for run in runs:
            if run.list_id is None and run.pending > 0:
                run.list_id, run.list_name, made = create_list(http, run.list_ref)
                if made:
                    console().info(
                        f"mailjet-elt apply: created the list {run.list_ref!r} (ID {run.list_id}) in Mailjet"
                    )
                created.add(run.run_id)
            if run.pending > 0:
                ensure_properties(http, run.properties, _property_created, run.property_types)
    except ListNotFound as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    except ListNotEmpty as exc:
        raise GuardStop(str(exc)) from None
    except MailjetError as exc:
        raise CommandError(f"nothing was sent: {exc}", EXIT_FAILURE) from None
    return created


def _property_created(name: str) -> None:
    console().info(f"mailjet-elt apply: created the contact property {name!r} in Mailjet")


def _verify_and_close(warehouse: Warehouse, runs: list[PendingRun], created: set[int]) -> list[AppliedRun]:
    """Close the runs, with the changes their lists, read back after each job, did not show (no list is
    read again: each job's read-back was its verification)."""
    with warehouse.pipeline.sql_client() as client, client.begin_transaction():
        return [
            close_run(
                client, run, run.run_id in created, recorded_mismatches(failed_changes(client, run.run_id))
            )
            for run in runs
        ]


def _ask(question: str) -> bool:
    if not sys.stdin.isatty():
        headline = question.splitlines()[0]
        raise CommandError(
            f"{headline} There is no terminal to ask: pass --yes to send without asking", EXIT_USAGE
        )
    answer = input(f"{question} [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def _say(text: str) -> None:
    console().warning(f"mailjet-elt apply: {text}")
