"""How a batch went: the planned actions, the outcomes of a change, and the judging of a finished job
(its status, its `Count` and its error report) into one outcome per change. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, get_args

from sources.mailjet.settings import JOB_FAILED

Action = Literal["addnoforce", "unsub", "remove", "update"]
Outcome = Literal["done", "refused", "failed", "skipped", "unknown"]
ACTIONS: tuple[Action, ...] = get_args(Action)
KEPT = "unsubscribed since the plan: kept, with their unsubscription"
SHOWN = "sent again after a stop: the list already showed it, so it was not sent twice"


@dataclass(frozen=True)
class Change:
    """How one planned change went."""

    run_id: int
    audience: str
    list_id: int
    email: str
    action: Action
    reason: str
    job_id: int | None
    outcome: Outcome
    error: str | None = None
    unsubscribed_at: str | None = None  # a removal passed over: when Mailjet says they unsubscribed


@dataclass(frozen=True)
class Batch:
    """One job's changes."""

    list_id: int
    action: Action
    job_id: int
    status: str  # the job's (Completed, Error, Abort), or skipped / refused when no job ran
    changes: list[Change]


def change(
    row: Mapping[str, Any],
    list_id: int,
    action: Action,
    job_id: int | None,
    outcome: Outcome,
    error: str | None,
) -> Change:
    """The outcome of the plan row `row`."""
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


def kept_changes(
    rows: Sequence[Mapping[str, Any]],
    list_id: int,
    action: Action,
    kept: Mapping[str, str | None] | None = None,
) -> list[Change]:
    """The removals passed over because Mailjet shows the member unsubscribed (`kept`: lowercase email
    -> when, as Mailjet dates it)."""
    when = kept or {}
    return [
        replace(
            change(r, list_id, action, None, "skipped", KEPT),
            unsubscribed_at=when.get(str(r["email"]).strip().lower()),
        )
        for r in rows
    ]


def shown_changes(rows: Sequence[Mapping[str, Any]], list_id: int, action: Action) -> list[Change]:
    """The changes of a batch sent again after a stop that the list already showed: not sent again."""
    return [change(r, list_id, action, None, "skipped", SHOWN) for r in rows]


def refused_batch(rows: Sequence[Mapping[str, Any]], list_id: int, action: Action, error: str) -> Batch:
    """A batch Mailjet would not take at all (a list gone, a payload refused): each change failed."""
    return Batch(
        list_id, action, 0, "refused", [change(r, list_id, action, None, "failed", error) for r in rows]
    )


def judge(
    rows: Sequence[Mapping[str, Any]],
    list_id: int,
    action: Action,
    job_id: int,
    job: Mapping[str, Any],
    report: Sequence[Mapping[str, Any]],
) -> list[Change]:
    """The outcome of each row sent in job `job_id`, from the job's final status object (`Status`,
    `Error`, `Count`) and its error report (rows with `Email` and `Error`), which a completed job can
    have too: a failed job fails every change; a contact the report names is refused; when `Count` does
    not account for what the report names, the others are unknown, not done."""
    status = str(job.get("Status"))
    refused = {str(e.get("Email", "")).strip().lower(): str(e.get("Error") or "refused") for e in report}
    failure = str(job.get("Error") or f"job ended {status}") if status in JOB_FAILED else None
    matched = sum(1 for r in rows if str(r["email"]).lower() in refused)
    applied = job.get("Count")
    # The report's shape is not documented: when it does not account for what the job says it did, the
    # contacts it does not name are not counted as done (nor as managed).
    unaccounted = (
        isinstance(applied, int) and not isinstance(applied, bool) and applied != len(rows) - matched
    )
    changes = []
    for row in rows:
        email = str(row["email"])
        if failure is not None:
            changes.append(change(row, list_id, action, job_id, "failed", failure))
        elif email.lower() in refused:
            changes.append(change(row, list_id, action, job_id, "refused", refused[email.lower()]))
        elif unaccounted:
            note = f"the job applied {applied} of {len(rows)} contacts and its report names {matched}"
            changes.append(change(row, list_id, action, job_id, "unknown", note))
        else:
            changes.append(change(row, list_id, action, job_id, "done", None))
    return changes
