"""`mailjet_lists`: a dlt destination that applies plan rows to Mailjet lists with bulk jobs.

Each table it receives is one action (`addnoforce`, `unsub`, `remove`, `update`) and each row one planned
change (run_id, audience, list_id, email, reason, properties). dlt hands the rows over in batches
(`batch_size`, default 5,000) and records, after each batch, how far it got, so a load stopped at any point
resumes from the batch it was in. Per (list, action) of a batch, one job:
`POST /v3/REST/contactslist/{list}/managemanycontacts` with the contacts (their properties for an add), an
update as a job on the contacts alone (`contact/managemanycontacts` without lists: it changes properties,
never a membership), polled until it ends;
its error report is read even when it completed, since a completed job can refuse single contacts. How
each change went is handed to `record` before the batch counts as done. Each job is written to the job
log (`jobs.started`) before it is waited for: a batch resent after a stop finds its job there
(`jobs.find`, by the batch's list, action and changes) and waits for it instead of starting another; a
batch of a run no longer sendable (superseded by a newer plan) is never started, but a job it had
started is still waited for and recorded, so the changelog misses nothing Mailjet did.

The client classifies failures: bad credentials, a forbidden call, an invalid payload or an unknown list
stop the load (terminal, not retried); rate limits, server errors and a job that does not finish in time
leave the batch to be resumed (transient)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any, Protocol

import dlt
import requests
from dlt.common.destination.exceptions import (
    DestinationTerminalException,
    DestinationTransientException,
)
from dlt.common.schema.typing import TColumnSchema

from sources.mailjet.client import MailjetHttp
from sources.mailjet.exceptions import (
    MailjetAuthError,
    MailjetError,
    MailjetHostUnknown,
    MailjetJobTimeout,
    MailjetRateLimited,
    MailjetServerError,
)
from sources.mailjet.paging import PageReader
from sources.mailjet.settings import PAGE_SIZE_MAX

DEFAULT_BATCH_SIZE = 5000
CONTACT_JOBS = "contact/managemanycontacts"  # a job on contacts, not on a list's memberships
# The action Mailjet is sent for each planned action: an update is an add that keeps the subscription.
MAILJET_ACTIONS = {"addnoforce": "addnoforce", "update": "addnoforce", "unsub": "unsub", "remove": "remove"}
COLUMNS: dict[str, TColumnSchema] = {
    "run_id": {"data_type": "bigint", "nullable": False},
    "audience": {"data_type": "text", "nullable": False},
    "list_id": {"data_type": "bigint", "nullable": False},
    "email": {"data_type": "text", "nullable": False},
    "contact_id": {"data_type": "bigint", "nullable": True},
    "reason": {"data_type": "text", "nullable": False},
    "properties": {"data_type": "text", "nullable": True},
}


@dataclass(frozen=True)
class Change:
    """How one planned change went."""

    run_id: int
    audience: str
    list_id: int
    email: str
    action: str
    reason: str
    job_id: int | None
    outcome: str  # done | refused | failed | skipped | unknown
    error: str | None = None


@dataclass(frozen=True)
class Batch:
    """One job's changes."""

    list_id: int
    action: str
    job_id: int
    status: str
    changes: list[Change]


class JobLog(Protocol):
    """Where the jobs started are written before they are waited for."""

    def find(self, key: str) -> tuple[int, str] | None:
        """The job (ID, resource) started earlier for the batch `key`, if any."""

    def started(
        self, key: str, resource: str, job_id: int, list_id: int, action: str, rows: Sequence[dict[str, Any]]
    ) -> None:
        """Mailjet accepted job `job_id` for `rows`: write it down (durably) before it is waited for."""


def batch_key(list_id: int, action: str, rows: Sequence[dict[str, Any]]) -> str:
    """Names a batch by its list, action and changes: the same rows resent give the same key."""
    digest = hashlib.sha256(f"{list_id}|{action}".encode())
    for item in sorted(f"{int(r['run_id'])}|{str(r['email']).lower()}" for r in rows):
        digest.update(b"\n" + item.encode())
    return digest.hexdigest()[:32]


def send(
    http: MailjetHttp,
    list_id: int,
    action: str,
    rows: Sequence[dict[str, Any]],
    kept: set[int] | None = None,
    jobs: JobLog | None = None,
    live: bool = True,
) -> Batch | None:
    """One bulk job for `rows` (one list, one action), waited for; how each change went. An update only
    changes properties (a contact job without lists: whoever left the list since stays off it); a remove
    passes over the members in `kept` (unsubscribed since the plan: removing them would erase it). A job
    `jobs` knows for this batch is waited for, not started again. Rows no longer `live` start no job:
    None, unless a job was started for them before."""
    skipped = [r for r in rows if action == "remove" and kept and int(r.get("contact_id") or 0) in kept]
    sending = [r for r in rows if r not in skipped]
    changes = [
        change(
            r,
            list_id,
            action,
            None,
            "skipped",
            "unsubscribed since the plan: kept, with their unsubscription",
        )
        for r in skipped
    ]
    if not sending:
        return Batch(list_id, action, 0, "skipped", changes) if live else None
    key = batch_key(list_id, action, sending)
    known = jobs.find(key) if jobs is not None else None
    if known is None and not live:
        return None
    contacts = []
    for row in sending:
        contact: dict[str, Any] = {"Email": row["email"]}
        if row.get("properties") and action in ("addnoforce", "update"):
            contact["Properties"] = json.loads(row["properties"])
        contacts.append(contact)
    body: dict[str, Any]
    if action == "update":
        resource, body = CONTACT_JOBS, {"Contacts": contacts}
    else:
        resource = f"contactslist/{list_id}/managemanycontacts"
        body = {"Action": MAILJET_ACTIONS[action], "Contacts": contacts}
    if known is not None:
        job_id, resource = known
    else:
        job_id = http.start_job(resource, body)
        if jobs is not None:
            jobs.started(key, resource, job_id, list_id, action, sending)
    result = http.wait_for_job(resource, job_id)
    refused = {
        str(e.get("Email", "")).strip().lower(): str(e.get("Error") or "refused") for e in result.errors
    }
    failure = str(result.job.get("Error") or f"job ended {result.status}") if result.failed else None
    matched = sum(1 for r in sending if str(r["email"]).lower() in refused)
    applied = result.job.get("Count")
    # The report's shape is not documented: when it does not account for what the job says it did, the
    # contacts it does not name are not counted as done (nor as managed).
    unaccounted = (
        isinstance(applied, int) and not isinstance(applied, bool) and applied != len(sending) - matched
    )
    for row in sending:
        email = str(row["email"])
        if failure is not None:
            changes.append(change(row, list_id, action, job_id, "failed", failure))
        elif email.lower() in refused:
            changes.append(change(row, list_id, action, job_id, "refused", refused[email.lower()]))
        elif unaccounted:
            note = f"the job applied {applied} of {len(sending)} contacts and its report names {matched}"
            changes.append(change(row, list_id, action, job_id, "unknown", note))
        else:
            changes.append(change(row, list_id, action, job_id, "done", None))
    return Batch(list_id, action, job_id, result.status, changes)


def change(
    row: dict[str, Any], list_id: int, action: str, job_id: int | None, outcome: str, error: str | None
) -> Change:
    return Change(
        int(row["run_id"]),
        str(row["audience"]),
        list_id,
        str(row["email"]),
        action,
        str(row["reason"]),
        job_id,
        outcome,
        error,
    )


def unsubscribed_members(http: MailjetHttp, list_id: int) -> set[int]:
    """The contact IDs Mailjet lists as unsubscribed from the list now."""
    listed = PageReader(http, PAGE_SIZE_MAX, 1).rows(
        "listrecipient", {"ContactsList": list_id, "Unsub": "true"}
    )
    return {int(r["ContactID"]) for r in listed if r.get("IsUnsubscribed")}


def mailjet_lists(
    http: MailjetHttp,
    record: Callable[[Batch], None],
    batch_size: int = DEFAULT_BATCH_SIZE,
    sendable: Callable[[int], bool] = lambda run_id: True,
    jobs: JobLog | None = None,
) -> Any:
    """The destination: `record` is called with each job's outcome before its batch counts as done. Rows
    of a run `sendable` refuses (a plan made since superseded it) start no job; a job `jobs` says was
    started for them is still waited for and recorded."""

    kept: dict[int, set[int]] = {}

    def sink(items: Any, table: Any) -> None:
        action = str(table["name"])
        if action not in MAILJET_ACTIONS:
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
                    record(batch)

    def _send(list_id: int, action: str, rows: list[dict[str, Any]], live: bool) -> Batch | None:
        try:
            if action == "remove" and list_id not in kept:  # read once per list, just before removing
                kept[list_id] = unsubscribed_members(http, list_id)
            return send(http, list_id, action, rows, kept.get(list_id), jobs, live)
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
            if not live:
                return None
            return Batch(
                list_id,
                action,
                0,
                "refused",
                [change(r, list_id, action, None, "failed", str(exc)) for r in rows],
            )

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


def plan_resources(rows_by_action: dict[str, Iterator[dict[str, Any]]]) -> list[Any]:
    """One dlt resource per action, from iterables of plan rows."""
    return [
        dlt.resource(rows, name=action, columns=COLUMNS, write_disposition="append")
        for action, rows in rows_by_action.items()
    ]
