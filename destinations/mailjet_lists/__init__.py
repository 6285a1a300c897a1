"""`mailjet_lists`: a dlt destination that applies plan rows to Mailjet lists with bulk jobs.

Each table it receives is one action (`addnoforce`, `unsub`, `remove`, `update`) and each row one planned
change (run_id, audience, list_id, email, reason; contact_id and properties optional). dlt hands the rows
over in batches (`batch_size`, default 5,000) and records, after each batch, how far it got, so a load
stopped at any point resumes from the batch it was in. Per (list, action) of a batch, one job:
`POST /v3/REST/contactslist/{list}/managemanycontacts` with the contacts (their properties for an add), an
update as a job on the contacts alone (`contact/managemanycontacts` without lists: it changes properties,
never a membership), polled until it ends, whatever its status. Then the touched contacts are read back
(per contact, or the list's pages, whichever costs fewer requests), and each change's outcome is what the
list shows: done when shown, else refused with the error report's text for that contact, else failed; a
completed job's changes not shown yet are read again with backoff first (`Patience`). The job's `Count`
and the report's shape are documented nowhere: the report gives only text. A batch Mailjet refuses whole
with a 400 loses the contacts its message names (refused), and the rest is sent again; one that names none
is bisected until the contact that refuses it is alone. How
each change went is handed to `record` before the batch counts as done. Each job is written to the job
log (`jobs.started`) before it is waited for: a batch resent after a stop finds its job there
(`jobs.find`, by the batch's list, action and changes) and waits for it instead of starting another; a
batch of a run no longer sendable (superseded by a newer plan) is never started, but a job it had
started is still waited for and recorded, so the changelog misses nothing Mailjet did.

Usable from any dlt pipeline: with no `http`, the client is built from the `[mailjet]` settings (dlt's
providers: `MAILJET__API_KEY`, `MAILJET__API_SECRET`, `MAILJET__BASE_URL`); with no `record`, each batch's
outcome is logged.

The client classifies failures: bad credentials, a forbidden call, an invalid payload or an unknown list
stop the load (terminal, not retried); rate limits, server errors and a job that does not finish in time
leave the batch to be resumed (transient).

Properties go out under the names `contactmetadata` lists for them (matched whatever their case), each
value formatted for its definition's datatype (read once per load, again when a batch names a property
not seen yet); a contact with a value its definition's type cannot take is refused with the reason, the
rest of its batch sent.

The parts: `payloads` (what is sent), `properties` (typed values and their names), `outcomes` (how a job
went), `verify` (what a list read back shows), `readback` (read-after-write), `split` (a batch refused
whole), `mailjet` (every call), `exceptions`."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import groupby
from typing import Any, Protocol

import dlt
import requests
from dlt.common.destination.exceptions import (
    DestinationTerminalException,
    DestinationTransientException,
)
from dlt.common.schema.typing import TColumnSchema

from destinations.mailjet_lists.exceptions import ListNotEmpty, ListNotFound, MailjetListsError
from destinations.mailjet_lists.mailjet import (
    create_list,
    ensure_properties,
    read_back,
    read_definitions,
    start_job,
    unsubscribed_among,
)
from destinations.mailjet_lists.outcomes import (
    ACTIONS,
    Action,
    Batch,
    Change,
    Outcome,
    change,
    kept_changes,
    refused_batch,
    shown_changes,
)
from destinations.mailjet_lists.payloads import CONTACT_JOBS, MAILJET_ACTIONS, Row, batch_key, split_kept
from destinations.mailjet_lists.properties import Datatype, Definition, split_typed
from destinations.mailjet_lists.readback import DEFAULT_READ_BACK_SECONDS, Patience, job_outcomes
from destinations.mailjet_lists.split import Parts, start_parts
from destinations.mailjet_lists.verify import Mismatch, mismatches, recorded_mismatches, shows, touched
from sources.mailjet.client import MailjetHttp
from sources.mailjet.config import resolve_mailjet_config
from sources.mailjet.exceptions import (
    MailjetAuthError,
    MailjetConfigError,
    MailjetError,
    MailjetHostUnknown,
    MailjetJobTimeout,
    MailjetRateLimited,
    MailjetServerError,
)

__all__ = [
    "ACTIONS",
    "COLUMNS",
    "CONTACT_JOBS",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_READ_BACK_SECONDS",
    "MAILJET_ACTIONS",
    "Action",
    "Batch",
    "Change",
    "Datatype",
    "Definition",
    "JobLog",
    "ListNotEmpty",
    "ListNotFound",
    "MailjetListsError",
    "Mismatch",
    "Outcome",
    "Patience",
    "batch_key",
    "create_list",
    "ensure_properties",
    "log_batch",
    "mailjet_lists",
    "mismatches",
    "plan_resources",
    "read_definitions",
    "recorded_mismatches",
    "send",
    "touched",
    "unsubscribed_among",
]

DEFAULT_BATCH_SIZE = 5000
PATIENCE = Patience()  # 60 s of read-after-write, with real sleeps
COLUMNS: dict[str, TColumnSchema] = {
    "run_id": {"data_type": "bigint", "nullable": False},
    "audience": {"data_type": "text", "nullable": False},
    "list_id": {"data_type": "bigint", "nullable": False},
    "email": {"data_type": "text", "nullable": False},
    "contact_id": {"data_type": "bigint", "nullable": True},
    "reason": {"data_type": "text", "nullable": False},
    "properties": {"data_type": "text", "nullable": True},
}
log = logging.getLogger(__name__)


class JobLog(Protocol):
    """Where the jobs started are written before they are waited for."""

    def find(self, key: str) -> tuple[int, str] | None:
        """The job (ID, resource) started earlier for the batch `key`, if any."""

    def intend(self, key: str, list_id: int, action: str, rows: Sequence[Row]) -> bool:
        """Write down (durably) that the batch `key` is about to be sent, before it is; whether it was
        written down before (an earlier attempt may have sent it without its job being known)."""

    def started(
        self, key: str, resource: str, job_id: int, list_id: int, action: str, rows: Sequence[Row]
    ) -> None:
        """Mailjet accepted job `job_id` for `rows`: write it down (durably) before it is waited for."""


def send(
    http: MailjetHttp,
    list_id: int,
    action: Action,
    rows: Sequence[Row],
    jobs: JobLog | None = None,
    live: bool = True,
    definitions: Mapping[str, Definition] | None = None,
    patience: Patience = PATIENCE,
) -> Batch | None:
    """One bulk job for `rows` (one list, one action), waited for; how each change went, as the list
    read back after the job shows it (`readback`). An update only changes properties (a contact job
    without lists: whoever left the list since stays off it). A remove first reads which of its members
    Mailjet shows unsubscribed, immediately before the job, and passes over them: removing them would
    erase their unsubscription. A batch Mailjet refuses whole with a 400 is sent in parts (`split`). A
    job `jobs` knows for this batch is waited for, not started again. Rows no longer `live` start no job:
    None, unless a job was started for them before. Properties go out under the names of their
    `definitions` (by lowercase name), each value formatted for its datatype; a contact with a value its
    definition cannot take is refused, with the reason, and the rest are sent."""
    key = batch_key(list_id, action, rows)
    known = jobs.find(key) if jobs is not None else None
    if known is None and not live:
        return None
    kept = unsubscribed_among(http, list_id, rows) if action == "remove" else {}
    sending, skipped = split_kept(action, rows, kept)
    changes = kept_changes(skipped, list_id, action, kept)
    if action in ("addnoforce", "update"):
        sending, rejected = split_typed(sending, definitions or {})
        changes += [change(r, list_id, action, None, "refused", why) for r, why in rejected]
    if not sending and known is None:
        return Batch(list_id, action, 0, "skipped", changes)
    if known is not None:
        parts = Parts(jobs=[(known[1], known[0], list(sending))])
    else:
        if jobs is not None and jobs.intend(key, list_id, action, sending):
            # Sent before, its job unknown (stopped between Mailjet's answer and the journal): only the
            # changes the list does not show yet go out again.
            shown = _shown_already(http, list_id, action, sending)
            changes += shown_changes(shown, list_id, action)
            sending = [r for r in sending if r not in shown]
            if not sending:
                return Batch(list_id, action, 0, "skipped", changes)

        def start(part: Sequence[Row]) -> tuple[str, int]:
            resource, job_id = start_job(http, list_id, action, part)
            if jobs is not None:
                jobs.started(key, resource, job_id, list_id, action, part)
            return resource, job_id

        parts = start_parts(sending, start)
    status = "refused"
    for resource, job_id, part in parts.jobs:
        status, judged = job_outcomes(http, list_id, action, resource, job_id, part, patience)
        changes += judged
    changes += [change(r, list_id, action, None, outcome, error) for r, outcome, error in parts.refused]
    ids = [job_id for _, job_id, _ in parts.jobs] or [0]
    return Batch(list_id, action, ids[-1], status, changes, tuple(ids[:-1]), parts.extra_requests)


def _shown_already(http: MailjetHttp, list_id: int, action: Action, rows: Sequence[Row]) -> list[Row]:
    """The rows whose change the list shows now (never an update's)."""
    if action == "update":
        return []
    state = read_back(
        http, list_id, action, {str(r["email"]).strip().lower(): int(r.get("contact_id") or 0) for r in rows}
    )
    return [r for r in rows if shows(state, str(r["email"]).strip().lower(), action)]


def log_batch(batch: Batch) -> None:
    """The default `record`: one log line per batch, with its count of changes per outcome."""
    counts = Counter(c.outcome for c in batch.changes)
    what = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
    job = f"job {batch.job_id} {batch.status}" if batch.job_id else "no job"
    if batch.split_requests:  # refused whole for one contact: sent in parts
        what += f" (in {len(batch.more_jobs) + 1} jobs, {batch.split_requests} more requests)"
    log.info("mailjet_lists: %s: %s on list %s: %s", job, batch.action, batch.list_id, what)


def mailjet_lists(
    http: MailjetHttp | None = None,
    record: Callable[[Batch], None] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    sendable: Callable[[int], bool] = lambda run_id: True,
    jobs: JobLog | None = None,
    patience: Patience = PATIENCE,
) -> Any:
    """The destination. `http` defaults to a client built from the `[mailjet]` settings when the first
    batch arrives; `record` (default: a log line) is called with each job's outcome before its batch
    counts as done. Rows of a run `sendable` refuses (a plan made since superseded it) start no job; a
    job `jobs` says was started for them is still waited for and recorded. `patience`: how long a
    completed job's changes the list does not show yet are read again."""

    client: list[MailjetHttp] = [] if http is None else [http]
    recorder = record or log_batch
    definitions: dict[str, Definition] = {}

    def defined(http: MailjetHttp, rows: Sequence[Row]) -> dict[str, Definition]:
        # Read once, and again when a batch names a property not seen yet (created since).
        names = {n.lower() for r in rows if r.get("properties") for n in json.loads(r["properties"])}
        if names - definitions.keys():
            definitions.clear()
            definitions.update(read_definitions(http))
        return definitions

    def connect() -> MailjetHttp:
        if not client:
            try:
                client.append(MailjetHttp.from_config(resolve_mailjet_config()))
            except MailjetConfigError as exc:
                raise DestinationTerminalException(str(exc)) from None
        return client[0]

    def sink(items: Any, table: Any) -> None:
        action = str(table["name"])
        if action not in MAILJET_ACTIONS:  # narrows `action` to an Action
            raise DestinationTerminalException(f"no such action {action!r} in a plan")
        ordered = sorted(items, key=lambda r: (int(r["list_id"]), str(r["email"])))
        for list_id, grouped in groupby(ordered, key=lambda r: int(r["list_id"])):
            rows = list(grouped)
            for live in (True, False):
                part = [r for r in rows if sendable(int(r["run_id"])) is live]
                if not part:
                    continue
                batch = _send(list_id, action, part, live)
                if batch is not None:
                    recorder(batch)

    def _send(list_id: int, action: Action, rows: list[Row], live: bool) -> Batch | None:
        http = connect()
        try:
            return send(http, list_id, action, rows, jobs, live, defined(http, rows), patience)
        except (
            MailjetJobTimeout,
            MailjetRateLimited,
            MailjetServerError,
            MailjetHostUnknown,  # nothing was sent: once the name resolves, apply resumes
            requests.RequestException,
        ) as exc:
            raise DestinationTransientException(str(exc)) from exc
        except MailjetAuthError as exc:
            raise DestinationTerminalException(str(exc)) from exc
        except MailjetError as exc:  # this batch cannot be sent (a list gone, a payload refused)
            return refused_batch(rows, list_id, action, str(exc)) if live else None

    return dlt.destination(
        sink,
        name="mailjet_lists",
        batch_size=batch_size,
        loader_file_format="typed-jsonl",
        naming_convention="direct",
        skip_dlt_columns_and_tables=True,
        max_table_nesting=0,
        max_parallel_load_jobs=1,
    )


def plan_resources(rows_by_action: dict[Action, Iterator[dict[str, Any]]]) -> list[Any]:
    """One dlt resource per action, from iterables of plan rows."""
    return [
        dlt.resource(rows, name=action, columns=COLUMNS, write_disposition="append")
        for action, rows in rows_by_action.items()
    ]
