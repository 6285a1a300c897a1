"""Async jobs: bulk subscription jobs (managemanycontacts) and CSV imports, applied when they finish."""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

from sandbox import settings
from sandbox.exceptions import ApiError, BadRequest, NotFound
from sandbox.http_types import Reply
from sandbox.store import is_valid_email

if TYPE_CHECKING:
    from sandbox.models import Job
    from sandbox.store import Store


def finish_job(store: Store, job: Job) -> None:
    """Apply a due job to the state and move it to its end status."""
    job.JobEnd = store.clock.now_ts()
    if job.will_fail:
        job.Status = settings.JOB_ERROR
        job.Error = "Job failed: internal processing error (injected fault); nothing was applied"
        job.errors = [{"Email": c.get("Email", ""), "Error": "job aborted"} for c in job.contacts]
        job.Errcount = len(job.errors)
        job.ErrorFile = error_file_url(store, job)
        return
    if job.kind == "csv":
        _finish_csv(store, job)
        return
    before = store.lag.before_job(store, job)  # quirk listing-lag: what listings show for a while
    _finish_bulk(store, job)
    if before is not None:
        store.lag.after_job(store, before)


def error_file_url(store: Store, job: Job) -> str:
    """Where a job's error report is served: an absolute URL, or (quirk `errorfile-relative`) the path
    under the API's `/v3/`."""
    if job.kind == "csv":
        path = f"DATA/batchjob/{job.ID}/CSVError/text:csv"
    else:
        path = f"DATA/batchjob/{job.ID}/JSONError/application:json/LAST"
    if "errorfile-relative" in store.quirks:
        return path
    return f"{getattr(store, 'base_url', '')}/v3/{path}"


def json_error_report(store: Store, job: Job) -> Reply:
    """A job's JSON error report: `{"JobID", "Errors": [{"Email", "Error"}]}`, or as the quirks that are
    on shape it (a bare list, lower-cased keys, or for a bulk job under `job-report-empty` a 404 for an
    even job ID and `{}` for an odd one)."""
    quirks = store.quirks
    if "job-report-empty" in quirks and job.kind != "csv":
        if job.ID % 2 == 0:
            raise NotFound()
        return Reply(payload={})
    rows = job.errors
    if "job-report-lowercase-keys" in quirks:
        rows = [{key.lower(): value for key, value in row.items()} for row in rows]
    if "job-report-bare-list" in quirks:
        return Reply(payload=rows)
    return Reply(payload={"JobID": job.ID, "Errors": rows})


def _finish_bulk(store: Store, job: Job) -> None:
    """Apply a completing bulk subscription job contact by contact. Contacts Mailjet would refuse (a bad
    address or property value, or a refusal injected by the `job_refuse_rate` or `job_refuse_first` fault)
    are not applied and go to the error report; the job still ends `Completed`, with `Count` the contacts
    applied. The write quirks (sandbox/quirks.py) change `Count`, `ErrorFile` and the end: see `_end_bulk`."""
    faults = getattr(store, "faults", None)
    quirks = store.quirks
    refused_first = _refused_first(faults, job)
    contacts = job.contacts
    if "job-error-partial" in quirks:
        contacts = contacts[: (len(contacts) + 1) // 2]
    targets: list[tuple[Any, str]] = []
    if job.kind == "list":
        targets.append((store.lists.get(job.list_id), job.Method))
    else:
        for item in job.ContactsLists:
            targets.append((store.lookup_list(item["ListID"]), item["Action"]))
    for contact_in in contacts:
        email = contact_in.get("Email")
        job.Current += 1
        if not is_valid_email(email):
            job.errors.append({"Email": email, "Error": "Invalid email address"})
            continue
        try:
            values = store.validate_properties(contact_in.get("Properties"))
        except ValueError as exc:
            job.errors.append(
                {"Email": email, "Error": "Object properties invalid", "Properties": exc.args[0]}
            )
            continue
        if str(email).strip().lower() in refused_first or (
            faults is not None and faults.job_refuses(str(email))
        ):
            job.errors.append({"Email": email, "Error": "Contact refused (injected fault)"})
            continue
        contact = store.ensure_contact(str(email), str(contact_in.get("Name") or ""))
        store.set_properties(contact, values)
        excluded = contact_in.get("IsExcludedFromCampaigns")
        if isinstance(excluded, bool):
            store.set_exclusion(contact, excluded)
        for target, action in targets:
            if target is None:
                job.errors.append({"Email": email, "Error": "List not found"})
                continue
            store.apply_action(contact, target, action)
        job.Count += 1
    _end_bulk(store, job, len(contacts))


def _refused_first(faults: Any, job: Job) -> set[str]:
    """The addresses (lowercased) of the job's contacts the `job_refuse_first` fault refuses: drawn for every
    contact the job carries, applied or not (a job that ends `Error` half-way asked it all the same)."""
    if faults is None:
        return set()
    if job.kind == "list":
        action = job.Method
    else:
        action = "+".join(str(item["Action"]) for item in job.ContactsLists) or "properties"
    return {
        str(c.get("Email")).strip().lower()
        for c in job.contacts
        if faults.job_refuses_first(str(c.get("Email")), action)
    }


def _end_bulk(store: Store, job: Job, processed: int) -> None:
    """A bulk job's end: `Completed`, or `Error` having applied only its first `processed` contacts (quirk
    `job-error-partial`); `Count` the contacts applied, or processed (quirk `job-count-processed`);
    `ErrorFile` when there are errors, or always (quirk `job-report-empty`)."""
    quirks = store.quirks
    job.Errcount = len(job.errors)
    if "job-count-processed" in quirks:
        job.Count = job.Current
    if job.errors or "job-report-empty" in quirks:
        job.ErrorFile = error_file_url(store, job)
    job.Status = settings.JOB_DONE
    if processed < len(job.contacts) or "job-error-partial" in quirks:
        job.Status = settings.JOB_ERROR
        job.Error = f"Job failed after {processed} of {len(job.contacts)} contacts: internal processing error"


def _csv_rows(store: Store, job: Job) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the uploaded file, honouring ImportOptions' FieldNames (then no header row)."""
    _, raw = store.uploads[job.DataID]
    text = raw.decode("utf-8-sig", errors="replace")
    rows = list(csv.reader(io.StringIO(text)))
    options: dict[str, Any] = {}
    if job.ImportOptions:
        try:
            loaded = json.loads(job.ImportOptions)
            options = loaded if isinstance(loaded, dict) else {}
        except ValueError:
            options = {}
    names = options.get("FieldNames")
    if isinstance(names, list) and names:
        return [str(n) for n in names], rows
    if not rows:
        return [], []
    return [h.strip() for h in rows[0]], rows[1:]


def _finish_csv(store: Store, job: Job) -> None:
    header, rows = _csv_rows(store, job)
    lowered = [h.lower() for h in header]
    target = store.lists.get(job.list_id) if job.list_id else None
    bad: list[tuple[list[str], str]] = []
    if "email" not in lowered:
        job.Status = settings.JOB_ERROR
        job.Error = 'No "email" column in the file'
        bad = [(row, "no email column") for row in rows]
    else:
        email_at = lowered.index("email")
        prop_names = [(i, h) for i, h in enumerate(header) if i != email_at and h]
        for name in (h for _, h in prop_names):
            if store.metadata_by_name(name) is None:
                store.create_metadata(name, "str")
        seen: set[str] = set()
        for row in rows:
            if not any(cell.strip() for cell in row):
                continue
            job.Current += 1
            if len(row) < len(header):
                bad.append((row, f"###Too few columns at line {job.Current}"))
                continue
            email = row[email_at].strip()
            if not is_valid_email(email):
                bad.append((row, f"###Invalid email at line {job.Current}"))
                continue
            if email.lower() in seen:
                bad.append((row, f"###Duplicate email at line {job.Current}"))
                continue
            seen.add(email.lower())
            try:
                values = store.validate_properties({h: row[i] for i, h in prop_names if row[i] != ""})
            except ValueError:
                bad.append((row, f"###Invalid property value at line {job.Current}"))
                continue
            contact = store.ensure_contact(email)
            store.set_properties(contact, values)
            if job.Method == "excludemarketing":
                store.set_exclusion(contact, True)
            elif job.Method == "includemarketing":
                store.set_exclusion(contact, False)
            elif target is not None:
                store.apply_action(contact, target, job.Method)
            job.Count += 1
        total = job.Current or 1
        job.Status = settings.JOB_DONE
        if bad and len(bad) * 100 / total > job.ErrTreshold:
            job.Status = settings.JOB_ERROR
            job.Error = f"Error threshold exceeded: {len(bad)} of {total} rows in error"
    job.Errcount = len(bad)
    if bad:
        out = io.StringIO()
        writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        writer.writerow([*header, "error"])
        for row, reason in bad:
            writer.writerow([*row, reason])
        job.error_csv = out.getvalue().encode()
        job.ErrorFile = error_file_url(store, job)


def check_emails(store: Store, contacts: list[dict[str, Any]]) -> None:
    """Under the quirk `bulk-invalid-email-400`, a 400 naming the first invalid address of a bulk POST
    (nothing is applied); by default such a contact is refused in the job's error report."""
    if "bulk-invalid-email-400" not in store.quirks:
        return
    for position, item in enumerate(contacts, start=1):
        if not is_valid_email(item["Email"]):
            raise BadRequest(
                f'Invalid email address: "{item["Email"]}" (item {position} of "Contacts"); nothing was '
                "applied: correct or drop that contact and send the request again"
            )


def check_action(action: Any, allowed: tuple[str, ...] = settings.ACTIONS) -> str:
    """A valid action name, or 400."""
    if not isinstance(action, str) or action.lower() not in allowed:
        raise ApiError(f'Invalid value for "Action": "{action}". Expected one of {", ".join(allowed)}')
    return action.lower()
