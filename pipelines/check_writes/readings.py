"""Which reading of Mailjet's undocumented write behaviours an account follows, from what the write check
saw (`Observations`). Pure: no I/O. Each behaviour gets one `Reading`: a short name (the first of each
list below is the reading `mailjet-api.md` takes, the sandbox's default) and a sentence saying what was
seen, or why it could not be."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NOT_OBSERVED = "not observed"
UNSEEN = "unseen"  # a membership the check did not get to read
GUIDE_WORDS = frozenset({"Allocated", "Upload", "Prepare", "Importing"})
ENDED = frozenset({"Completed", "Error", "Abort"})
# The behaviours, in the order they are printed, with what each is about.
BEHAVIOURS: dict[str, str] = {
    "running_status": "a running job's Status",
    "count": "what a finished job's Count counts",
    "report_shape": "the JSON error report's shape",
    "report_keys": "the report rows' key case",
    "errorfile_form": "ErrorFile: a URL or a path",
    "errorfile_without_errors": "ErrorFile on a job without errors",
    "invalid_address": "one invalid address in a bulk POST",
    "error_after_part": "a job ending Error after applying part",
    "listing_lag": "listings after a finished job",
    "unsub_nonmember": "unsub of a non-member",
    "remove_unsub": "remove of an unsubscribed member",
    "property_names": "property names as Mailjet lists them",
    "property_coercion": "a property value sent as text",
    "webhook_retry": "webhook retries",
}


@dataclass(frozen=True)
class Reading:
    """Which reading the account follows for one behaviour (`reading`), and what was seen (`detail`)."""

    reading: str
    detail: str


@dataclass
class JobSeen:
    """One bulk job as the check saw it: its kind, the statuses polled in order, its final status object,
    and whether every contact it was sent is one Mailjet should take (no deliberate error)."""

    kind: str
    job_id: int
    statuses: list[str]
    final: dict[str, Any]
    clean: bool


@dataclass
class Observations:
    """What the probes saw; None where a probe did not get that far."""

    jobs: list[JobSeen] = field(default_factory=list)
    property_sent: str | None = None  # the name the definition was created with
    property_listed: str | None = None  # the name Mailjet's answer gives it
    whole_post_refused: str | None = None  # Mailjet's message when a POST with one bad address got a 400
    count_job: JobSeen | None = None  # the add with refusals: its Count against what the list shows
    count_sent: int | None = None
    count_applied: int | None = None
    report: tuple[int, Any] | None = None  # that job's JSON report: (HTTP status, decoded body or None)
    first_applied: bool | None = None  # the first add's contact shows as a member (after any lag)
    lag: tuple[float, float] | None = None  # the change showed between these seconds after the job
    lag_bound: float = 0.0  # how long the first add's change was waited for
    after_unsub: bool | None = None  # the member unsubscribed (None: not a member)
    # Memberships after the unsub of a non-member, the remove of the unsubscribed member, its addnoforce
    # (True: unsubscribed, False: subscribed, None: not a member, UNSEEN: not read).
    nonmember_after_unsub: bool | str | None = UNSEEN
    after_remove: bool | str | None = UNSEEN
    after_readd: bool | str | None = UNSEEN
    coerced: str | None = UNSEEN  # the value the text "42" left, as read back (None: no value)


def read_all(seen: Observations, stopped: str | None = None) -> dict[str, Reading]:
    """Every behaviour's reading; `stopped` names the step a failure cut short."""
    why = f"the check stopped before it ({stopped})" if stopped else "the check did not get that far"
    readings = {
        "running_status": running_status(seen.jobs),
        "count": count(seen),
        **report(seen.report),
        **error_file(seen.jobs),
        "invalid_address": invalid_address(seen),
        "error_after_part": error_after_part(seen),
        "listing_lag": listing_lag(seen),
        "unsub_nonmember": unsub_nonmember(seen.nonmember_after_unsub),
        "remove_unsub": remove_unsub(seen),
        "property_names": property_names(seen.property_sent, seen.property_listed),
        "property_coercion": property_coercion(seen.coerced),
        "webhook_retry": Reading(
            NOT_OBSERVED,
            "Mailjet retries failed deliveries only to a public URL it can reach, which a probe would "
            "need; the two plausible policies: every 30 s for 24 h, or 10 times 10 minutes apart",
        ),
    }
    cut = {n for n, r in readings.items() if r.reading == NOT_OBSERVED and n != "webhook_retry"}
    return {
        n: Reading(r.reading, f"{r.detail}; {why}") if n in cut and stopped else r
        for n, r in readings.items()
    }


def running_status(jobs: list[JobSeen]) -> Reading:
    """The words a job's `Status` took before it ended."""
    words = list(dict.fromkeys(s for job in jobs for s in job.statuses if s not in ENDED))
    if not words:
        return Reading(NOT_OBSERVED, "every job had ended by its first poll")
    shown = ", ".join(words)
    if set(words) <= GUIDE_WORDS:
        return Reading("guide", f"the guide's words: {shown}")
    if words == ["In Progress"]:
        return Reading("in-progress", "In Progress (the Node SDK's word)")
    return Reading("other", f"words the guide does not list: {shown}")


def count(seen: Observations) -> Reading:
    """`Count` of the job with refusals against the contacts the list shows it applied."""
    job, sent, applied = seen.count_job, seen.count_sent, seen.count_applied
    if job is None or sent is None or applied is None:
        return Reading(NOT_OBSERVED, "the job with refusals was not read back")
    value = job.final.get("Count")
    if isinstance(value, bool) or not isinstance(value, int):
        return Reading("other", f"Count is {value!r}, not a number")
    said = f"Count {value} for {sent} contacts sent, {applied} applied as the list shows"
    if applied == sent:
        return Reading(NOT_OBSERVED, f"{said}: no contact was refused, so Count cannot tell")
    if value == applied:
        return Reading("applied", f"{said}: the contacts applied")
    if value > applied:
        return Reading("processed", f"{said}: refusals counted too")
    return Reading("other", said)


def report(answer: tuple[int, Any] | None) -> dict[str, Reading]:
    """The error report's shape and its rows' key case."""
    if answer is None:
        missing = Reading(NOT_OBSERVED, "the report of the job with refusals was not read")
        return {"report_shape": missing, "report_keys": missing}
    status, body = answer
    rows: Any = None
    if status == 404:
        shape = Reading("empty", "the report of a job with refusals answers 404")
    elif isinstance(body, list):
        shape, rows = Reading("bare-list", f"a bare list of {len(body)} row(s)"), body
    elif isinstance(body, dict) and not body:
        shape = Reading("empty", "the report of a job with refusals is {}")
    elif isinstance(body, dict) and any(isinstance(body.get(k), list) for k in ("Errors", "Data")):
        key = "Errors" if isinstance(body.get("Errors"), list) else "Data"
        rows = body[key]
        shape = Reading("object", f"an object with its rows under {key} ({len(rows)} row(s))")
    else:
        shape = Reading("other", f"HTTP {status}, an answer of no known shape")
    keys = sorted({str(k) for row in rows or [] if isinstance(row, dict) for k in row})
    if not keys:
        return {"report_shape": shape, "report_keys": Reading(NOT_OBSERVED, "the report listed no rows")}
    if all(k == k.lower() for k in keys):
        case = Reading("lowercase", f"keys {', '.join(keys)}")
    elif all(k[:1].isupper() for k in keys):
        case = Reading("capitalized", f"keys {', '.join(keys)}")
    else:
        case = Reading("other", f"keys {', '.join(keys)}")
    return {"report_shape": shape, "report_keys": case}


def error_file(jobs: list[JobSeen]) -> dict[str, Reading]:
    """Whether `ErrorFile` is a URL or a path, and whether jobs without errors have one."""
    files = [str(j.final.get("ErrorFile")) for j in jobs if j.final.get("ErrorFile")]
    if not files:
        form = Reading(NOT_OBSERVED, "no job named an ErrorFile")
    elif all(f.startswith(("http://", "https://")) for f in files):
        form = Reading("absolute", f"a URL, e.g. {files[0]}")
    else:
        form = Reading(
            "relative", f"a path under the API's /v3/, e.g. {next(f for f in files if '://' not in f)}"
        )
    clean = [j for j in jobs if j.clean and j.final.get("Status") == "Completed"] or [
        j for j in jobs if j.clean
    ]
    if not clean:
        return {
            "errorfile_form": form,
            "errorfile_without_errors": Reading(NOT_OBSERVED, "no job without errors ended"),
        }
    with_file = [j for j in clean if j.final.get("ErrorFile")]
    if with_file:
        without = Reading("set", f"set on {len(with_file)} of {len(clean)} job(s) without errors")
    else:
        without = Reading("empty", f"empty on all {len(clean)} job(s) without errors")
    return {"errorfile_form": form, "errorfile_without_errors": without}


def invalid_address(seen: Observations) -> Reading:
    """Whether one invalid address refused the whole bulk POST."""
    if seen.whole_post_refused is not None:
        return Reading("whole-post-400", f"the POST was refused (400): {seen.whole_post_refused}")
    if seen.count_job is None:
        return Reading(NOT_OBSERVED, "the POST with an invalid address was not sent")
    return Reading("per-contact", "the job started; the invalid address is that contact's refusal alone")


def error_after_part(seen: Observations) -> Reading:
    """Whether a job ended `Error` having applied contacts (the first add's one, as the list shows it)."""
    errors = [j for j in seen.jobs if j.final.get("Status") in ("Error", "Abort")]
    if not seen.jobs:
        return Reading(NOT_OBSERVED, "no job ended")
    if not errors:
        return Reading("completed", f"all {len(seen.jobs)} jobs ended Completed")
    first = seen.jobs[0]
    message = str(errors[0].final.get("Error") or "no Error text")
    if first in errors and seen.first_applied:
        return Reading(
            "error-after-applying",
            f"a job ended {first.final.get('Status')} and still applied its contact ({message})",
        )
    if first in errors and seen.first_applied is False:
        return Reading(
            "error-nothing-applied",
            f"a job ended {first.final.get('Status')} with nothing applied ({message})",
        )
    return Reading("other", f"{len(errors)} job(s) ended Error or Abort ({message})")


def listing_lag(seen: Observations) -> Reading:
    """Whether listings showed the first add's change at once, later, or not within the bound."""
    if seen.lag is None:
        if seen.first_applied is None:
            return Reading(NOT_OBSERVED, "the first job's change was not read back")
        return Reading(
            "lags-beyond-bound", f"the list did not show the first job's change within {seen.lag_bound:g} s"
        )
    low, high = seen.lag
    if high == 0:
        return Reading("none", "the list showed the job's change as soon as the job ended")
    return Reading("lags", f"the list showed the job's change between {low:g} and {high:g} s after it ended")


def unsub_nonmember(after: bool | str | None) -> Reading:
    """What `unsub` of a contact that is not a member did."""
    if after == UNSEEN:
        return Reading(NOT_OBSERVED, "the unsub of a non-member was not read back")
    if after is True:
        return Reading("unsubscribed-member", "the contact became an unsubscribed member")
    if after is None:
        return Reading("noop", "nothing: the contact is still not a member")
    return Reading("other", "the contact became a subscribed member")


def remove_unsub(seen: Observations) -> Reading:
    """Whether `remove` of an unsubscribed member erased the unsubscription (a later addnoforce tells)."""
    if seen.after_unsub is not True or seen.after_readd == UNSEEN:
        return Reading(NOT_OBSERVED, "no member was unsubscribed, removed and added again")
    if seen.after_remove not in (None, UNSEEN):
        return Reading("other", "remove left the membership in place")
    if seen.after_readd is True:
        return Reading("keeps", "addnoforce after remove made the contact an unsubscribed member again")
    if seen.after_readd is False:
        return Reading(
            "erases", "addnoforce after remove subscribed the contact: the unsubscription was gone"
        )
    return Reading("other", "addnoforce after remove did not add the contact")


def property_names(sent: str | None, listed: str | None) -> Reading:
    """Whether Mailjet lists a property under the name it was created with."""
    if sent is None or listed is None:
        return Reading(NOT_OBSERVED, "no property definition was created")
    if listed == sent:
        return Reading("kept-case", f"created as {sent}, listed as {listed}")
    if listed == sent.lower():
        return Reading("lowercased", f"created as {sent}, listed as {listed}")
    return Reading("other", f"created as {sent}, listed as {listed}")


def property_coercion(value: str | None) -> Reading:
    """Whether an `int` property took the text "42"."""
    if value == UNSEEN:
        return Reading(NOT_OBSERVED, "the update with a text value was not read back")
    if value is None:
        return Reading("strict", 'an int property refused the text "42": that contact was not updated')
    return Reading("coerced", f'an int property took the text "42" (read back as {value!r})')
