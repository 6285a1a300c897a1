"""Mailjet's bulk jobs: start one, poll it until it is Completed, Error or Abort, and read its per-contact
error report; the answers' shapes are read by pure functions, the requests go through the client."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from tenacity import RetryCallState, Retrying, retry_if_result, wait_exponential_jitter

from sources.mailjet import settings
from sources.mailjet.exceptions import MailjetJobFailed, MailjetJobTimeout

if TYPE_CHECKING:  # the client calls these functions: a type only, no import cycle at run time
    from sources.mailjet.client import MailjetHttp


@dataclass(frozen=True)
class JobResult:
    """How an async job ended: its final status object, as Mailjet states it, and its error report."""

    job_id: int
    status: str  # Completed, Error or Abort
    job: dict[str, Any]  # the final status object: Count, Error, ErrorFile, JobStart, JobEnd, ...
    errors: list[dict[str, Any]]  # the error report: one row per contact refused (Email, Error, ...)
    statuses: list[str]  # the statuses seen while polling, in order

    @property
    def failed(self) -> bool:
        """Whether the job ended in Error or Abort."""
        return self.status in settings.JOB_FAILED

    def raise_if_failed(self) -> JobResult:
        """This result, unless the job ended in Error or Abort: then MailjetJobFailed."""
        if self.failed:
            raise MailjetJobFailed(
                f"job {self.job_id} ended {self.status}: {self.job.get('Error') or 'no detail'} "
                f"({len(self.errors)} contact(s) in its error report)"
            )
        return self


def job_id_of(rows: list[Any]) -> int | None:
    """The JobID (a CSV import's `ID`) in the `Data` rows answering a job's start, else None."""
    first = rows[0] if rows and isinstance(rows[0], dict) else {}
    job_id = first.get("JobID", first.get("ID"))
    if isinstance(job_id, bool) or not isinstance(job_id, int):
        return None
    return job_id


def is_running(job: Mapping[str, Any]) -> bool:
    """Whether a job's status object says it has not ended yet."""
    return str(job.get("Status")) not in settings.JOB_DONE | settings.JOB_FAILED


def has_error_report(job: Mapping[str, Any]) -> bool:
    """Whether a job's final status names an error report (`ErrorFile`, or an `Errcount` above 0)."""
    errcount = job.get("Errcount")
    return bool(job.get("ErrorFile")) or (isinstance(errcount, int) and errcount > 0)


def json_report_rows(body: Any) -> list[dict[str, Any]] | None:
    """The rows of a bulk job's JSON error report, or None when the body is not a report."""
    # The report's shape is not documented (mailjet-api.md §5): take the rows under `Errors` or `Data`,
    # or a bare list of them.
    rows = body.get("Errors", body.get("Data")) if isinstance(body, dict) else body
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        return None
    return rows


def csv_report_rows(content: bytes) -> list[dict[str, Any]]:
    """The rows of a CSV import's error report (the rows in error, with an `error` column)."""
    text = content.decode("utf-8-sig", errors="replace")
    return [dict(row) for row in csv.DictReader(io.StringIO(text))]


def start_job(http: MailjetHttp, resource: str, payload: Any) -> int:
    """POST an async job under /v3/REST; its JobID (a CSV import's `ID`)."""
    rows = http.post(resource, payload)
    job_id = job_id_of(rows)
    if job_id is None:
        path = f"{settings.REST_PREFIX}/{resource}"
        raise http.unexpected("POST", path, {"Data": rows}, "Data: one row with the JobID")
    return job_id


def wait_for_job(
    http: MailjetHttp,
    resource: str,
    job_id: int,
    timeout: float,
    first_poll: float,
    max_poll: float,
    report: bool = True,
) -> JobResult:
    """Poll the job until it ends (see `MailjetHttp.wait_for_job`); how it ended, with its error report
    (none read without `report`)."""
    path = f"{resource}/{job_id}"
    seen: list[str] = []

    def poll() -> dict[str, Any]:
        rows = http.get(path)
        if not rows or not isinstance(rows[0], dict):
            full = f"{settings.REST_PREFIX}/{path}"
            raise http.unexpected("GET", full, {"Data": rows}, "Data: the job's status object")
        status = str(rows[0].get("Status"))
        if not seen or seen[-1] != status:
            seen.append(status)
        return rows[0]

    deadline = time.monotonic() + timeout
    backoff = wait_exponential_jitter(multiplier=first_poll, max=max_poll, jitter=first_poll)

    def wait(state: RetryCallState) -> float:
        return max(0.0, min(backoff(state), deadline - time.monotonic()))  # never past the deadline

    def timed_out(state: RetryCallState) -> NoReturn:
        raise MailjetJobTimeout(
            f"job {job_id} is still {seen[-1] if seen else 'pending'} after {timeout:g} s of polling "
            f"GET {settings.REST_PREFIX}/{path}; Mailjet may still finish it: look again later "
            f"(mailjet-elt api GET {path}), or allow the job longer"
        )

    job: dict[str, Any] = Retrying(
        retry=retry_if_result(is_running),
        wait=wait,
        stop=lambda state: time.monotonic() >= deadline,
        retry_error_callback=timed_out,
    )(poll)
    errors = http.job_errors(resource, job_id) if report and has_error_report(job) else []
    return JobResult(job_id, str(job.get("Status")), job, errors, seen)


def job_errors(http: MailjetHttp, resource: str, job_id: int) -> list[dict[str, Any]]:
    """A job's error report, read from the client's base URL (see `MailjetHttp.job_errors`)."""
    if resource.lower().startswith(settings.CSV_IMPORT_RESOURCE):
        path = settings.DATA_PREFIX + settings.JOB_CSV_ERRORS.format(job_id=job_id)
        return csv_report_rows(http.send("GET", path).content)
    path = settings.DATA_PREFIX + settings.JOB_JSON_ERRORS.format(job_id=job_id)
    body = http.request("GET", path)
    rows = json_report_rows(body)
    if rows is None:
        raise http.unexpected("GET", path, body, "Errors: a list of the contacts in error")
    return rows
