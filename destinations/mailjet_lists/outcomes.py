"""How a batch went: the planned actions, the outcomes of a change, and the judging of a finished job into
one outcome per change: what the list shows after it, with the error report's text for what it does not.
Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, get_args

from destinations.mailjet_lists.verify import not_shown, shows
from sources.mailjet.settings import JOB_DONE

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
    """One job's changes (a batch Mailjet refused whole for one contact is sent in parts: several jobs)."""

    list_id: int
    action: Action
    job_id: int
    status: str  # the job's (Completed, Error, Abort), or skipped / refused when no job ran
    changes: list[Change]
    more_jobs: tuple[int, ...] = ()  # the other jobs of a batch sent in parts
    split_requests: int = 0  # the POSTs beyond the first spent finding the contacts that refused it whole


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


def report_errors(report: Any) -> dict[str, str]:
    """lowercase email -> Mailjet's error text, from a job's error report in whichever shape it comes: an
    object holding its rows under `Errors` (or `Data`), or a bare list of rows, keys matched whatever their
    case. Its shape is documented nowhere (mailjet-api.md §5), so anything else names nobody: an
    unreadable report costs the message, never the outcome."""
    if isinstance(report, Mapping):
        keyed = _lowered(report)
        report = keyed.get("errors", keyed.get("data"))
    if not isinstance(report, list):
        return {}
    errors: dict[str, str] = {}
    for row in report:
        keyed = _lowered(row) if isinstance(row, Mapping) else {}
        email = str(keyed.get("email") or "").strip().lower()
        if email:
            errors[email] = str(keyed.get("error") or keyed.get("errormessage") or "refused")
    return errors


def _lowered(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in row.items()}


def judge(
    rows: Sequence[Mapping[str, Any]],
    list_id: int,
    action: Action,
    job_id: int,
    job: Mapping[str, Any],
    report: Mapping[str, str],
    state: Mapping[str, bool] | None,
) -> list[Change]:
    """The outcome of each row sent in job `job_id`, from what the list shows after the job ended (`state`:
    lowercase email -> unsubscribed, for the members among the rows) whatever the job's status: shown,
    done; not shown, refused with the error `report` gives for that contact (`report_errors`), else
    failed with the job's error or, when the job completed, the list's word (`verify.not_shown`). The
    job's `Count` is never read: whether it counts refusals is undocumented. An update changes properties,
    which memberships do not show (`state` None): done when its job completed and the report does not name
    it."""
    status = str(job.get("Status") or "")
    completed = status in JOB_DONE
    failure = str(job.get("Error") or f"job ended {status or 'without a status'}")
    changes = []
    for row in rows:
        email = str(row["email"]).strip().lower()
        shown = (completed and email not in report) if state is None else shows(state, email, action)
        if shown:
            changes.append(change(row, list_id, action, job_id, "done", None))
        elif email in report:
            changes.append(change(row, list_id, action, job_id, "refused", report[email]))
        elif completed and state is not None:
            changes.append(change(row, list_id, action, job_id, "failed", not_shown(state, email)))
        else:
            changes.append(change(row, list_id, action, job_id, "failed", failure))
    return changes
