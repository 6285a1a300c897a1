"""Read-after-write: what the list shows of a job's changes once the job ended. Whether Mailjet's listings
show a completed job's changes at once is undocumented (mailjet-api.md §5), so the changes a completed job
does not show yet are read again, alone, with backoff, for up to `Patience.seconds`, before the list is taken
at its word; so are those of a job that ended `Error` while the list shows fewer than its `Count` says it
processed."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from destinations.mailjet_lists.mailjet import job_report, read_back, wait_for_job
from destinations.mailjet_lists.outcomes import Action, Change, judge, report_errors
from destinations.mailjet_lists.payloads import Row
from destinations.mailjet_lists.verify import shows
from sources.mailjet.client import MailjetHttp
from sources.mailjet.jobs import has_error_report
from sources.mailjet.settings import JOB_DONE

DEFAULT_READ_BACK_SECONDS = 60.0
FIRST_WAIT_SECONDS = 0.5
LONGEST_WAIT_SECONDS = 8.0


@dataclass(frozen=True)
class Patience:
    """How long the changes of a completed job the list does not show yet are read again, and how the
    waits between the reads are made (`sleep`: time.sleep in the product)."""

    seconds: float = DEFAULT_READ_BACK_SECONDS
    sleep: Callable[[float], None] = time.sleep


def waits(
    limit: float, first: float = FIRST_WAIT_SECONDS, longest: float = LONGEST_WAIT_SECONDS
) -> list[float]:
    """The waits before each read again: doubling from `first`, none longer than `longest`, together
    `limit` seconds (the last one shortened to fit). A dozen lines instead of tenacity: the waits are
    made by `Patience.sleep`, and what is re-read shrinks between the reads."""
    planned: list[float] = []
    wait = first
    while sum(planned) < limit:
        planned.append(min(wait, longest, limit - sum(planned)))
        wait *= 2
    return planned


def settled_state(
    http: MailjetHttp,
    list_id: int,
    action: Action,
    emails: Mapping[str, int],
    expected: int,
    refused: Callable[[], Collection[str]],
    patience: Patience,
) -> tuple[dict[str, bool], int]:
    """The list's state (lowercase email -> unsubscribed, members only) for `emails` (lowercase email ->
    contact ID, 0 when unknown) after their job, and how many times it was read again. While the list
    shows fewer than `expected` of the changes (`expected_shown`), those it does not show and the error
    report does not refuse (`refused`: read only if one is not shown) are read again, alone, after each
    wait of `patience`, until shown or the waits run out."""
    state = read_back(http, list_id, action, emails)
    reads = 0
    if sum(shows(state, e, action) for e in emails) >= expected:
        return state, reads
    named = refused()
    for wait in waits(patience.seconds):
        pending = [e for e in emails if not shows(state, e, action) and e not in named]
        if not pending or len(emails) - len(pending) >= expected:
            break
        patience.sleep(wait)
        again = read_back(http, list_id, action, {e: emails[e] for e in pending})
        reads += 1
        for email in pending:
            state.pop(email, None)
        state.update(again)
    return state, reads


def expected_shown(job: Mapping[str, Any], changes: int) -> int:
    """How many of a job's `changes` the list should show once its listings caught up: all of them when it
    completed; when it did not, as many as its `Count` says it processed (a job that ends `Error` may have
    applied part of its batch). Only how long to read again depends on it, never an outcome; a `Count`
    that is not a number waits for nothing."""
    if str(job.get("Status") or "") in JOB_DONE:
        return changes
    count = job.get("Count")
    return min(count, changes) if isinstance(count, int) and not isinstance(count, bool) and count > 0 else 0


def job_outcomes(
    http: MailjetHttp,
    list_id: int,
    action: Action,
    resource: str,
    job_id: int,
    rows: Sequence[Row],
    patience: Patience,
) -> tuple[str, list[Change]]:
    """Wait for job `job_id` to end, whatever its status, and judge each of its `rows` by what the list
    shows then (`settled_state`, `judge`); its error report is read only for the text of what the list
    does not show. An update is judged by its job and report alone (memberships do not show properties).
    The job's final status, and the changes."""
    result = wait_for_job(http, resource, job_id)
    report: dict[str, str] = {}
    read: list[bool] = []

    def refused() -> dict[str, str]:
        if not read:
            read.append(True)
            if has_error_report(result.job):
                report.update(report_errors(job_report(http, job_id)))
        return report

    if action == "update":
        return result.status, judge(rows, list_id, action, job_id, result.job, refused(), None)
    emails = {str(r["email"]).strip().lower(): int(r.get("contact_id") or 0) for r in rows}
    expected = expected_shown(result.job, len(emails))
    state, _ = settled_state(http, list_id, action, emails, expected, refused, patience)
    if not all(shows(state, e, action) for e in emails):
        refused()
    return result.status, judge(rows, list_id, action, job_id, result.job, report, state)
