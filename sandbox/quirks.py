"""Quirks: other plausible readings of Mailjet's API where its documentation is ambiguous, each behind a
name, so that the extract and `apply` are tested against every reading and not only against our own guess.

Spec syntax (flag `--quirks`, `SandboxConfig.quirks` and `PUT /_sandbox/quirks {"spec": ...}`): names
joined with commas, or `all` for every one. `listing-lag` takes a value, `listing-lag=SECONDS` (bare, or
under `all`, it is LISTING_LAG_DEFAULT seconds; `all,listing-lag=5` sets it). The default is none: the
sandbox answers as `mailjet-api.md` reads the documentation.

Reads (READ_QUIRKS):
- `fromts-exclusive`: `FromTS` and `ToTS` exclude their own second (the reference says messages sent
  "after FromTS" and "before ToTS"; a widely used tap reads FromTS as exclusive), where the default reads
  both as inclusive.
- `sort-unknown-400`: a `Sort` on a field the reference never names as sortable (`OpenedAt`, `ClickedAt`,
  `BouncedAt`, campaign `CreatedAt`, statcounters `SourceID`) is refused with a 400.
- `sort-unknown-ignored`: such a `Sort` is ignored instead, and the rows come in the API's own order,
  newest first. It excludes `sort-unknown-400`; `all` takes the harsher, `sort-unknown-400`.
- `campaign-status-string`: a campaign's `Status` is a string (`"2"`), as the Go SDK types it, where the
  default sends the reference's integer.
- `statcounters-no-countonly`: `/statcounters` ignores `countOnly` (undocumented there) and answers a plain
  page, whose `Count`/`Total` are that page's size.
- `event-filter-send-time`: on the event logs (`openinformation`, `clickstatistics`, `bouncestatistics`)
  `FromTS`/`ToTS` filter on the message's send time (`ArrivedAt`), and `EventFromTS`/`EventToTS` on the
  event's own time, as the Node SDK's separate filters suggest; the default filters on the event's time.
- `click-id-minus-one`: every `clickstatistics` row has `"ID": -1`, as in the reference's example.
- `bounce-id-is-message-id`: a `bouncestatistics` row's `ID` is its message's ID, as in the reference's
  example (a message that bounced twice gives two rows with one ID).
- `sms-uuid-ids`: `/v4/sms` gives `MessageId` as a UUID string, where the default sends a numeric string.
- `sms-page-cap-21`: `/v4/sms` answers at most 21 rows per call, whatever `Limit` asks for (one guide's
  "maximum of 21 items per call").
- `draft-axtesting-object`: a draft's `AXTesting` is an object (as the Go and Node SDKs type it), where
  the default sends an integer.

Writes (WRITE_QUIRKS): bulk subscription jobs (`managemanycontacts`), their requests, the readings of the
subscription actions, webhook retries, and contact properties.
- `job-status-in-progress`: a running job's `Status` is `In Progress` (the Node SDK's word), where the
  default moves through the guide's `Allocated`, `Upload`, `Prepare`, `Importing`.
- `job-count-processed`: a finished bulk job's `Count` is every contact it processed, refusals included,
  where the default counts the contacts applied.
- `job-report-bare-list`: the JSON error report is a bare list of rows, where the default is the object
  `{"JobID", "Errors": [rows]}`.
- `job-report-lowercase-keys`: the report's rows are keyed `email`/`error` (every key lower-cased), where
  the default keys them `Email`/`Error`.
- `job-report-empty`: every finished bulk job has an `ErrorFile`, errors or not, and its JSON report
  answers a 404 (even job IDs) or `{}` (odd job IDs); the default sets `ErrorFile` only on a job with
  errors, and the report lists them.
- `errorfile-relative`: `ErrorFile` is a path relative to the API's `/v3/` (`DATA/batchjob/...`, as a
  Mailjet maintainer describes it), where the default gives an absolute URL.
- `job-error-partial`: a bulk job ends `Error` after applying the first half of its contacts (rounded up:
  a one-contact job is applied, and still ends `Error`); the rest are not applied and not in the report,
  which lists only the refusals among the applied half; `Error` says how far it got. The default ends a
  job `Error` only under the `job_fail_rate` fault, with nothing applied.
- `bulk-invalid-email-400`: one invalid address in a bulk POST refuses the whole POST with a 400 naming
  the address, nothing applied, where the default starts the job and refuses that contact alone in the
  job's error report.
- `listing-lag=SECONDS`: for SECONDS of the sandbox clock after a job ends, listings of memberships
  (`listrecipient`, `contact?ContactsList=`, `contact/{id}/getcontactslists`) and the lists'
  `SubscriberCount` still show each membership the job touched as it was before the job (the contacts
  the job created do appear); the default shows a job's changes as soon as it ends.
- `unsub-nonmember-noop`: `unsub` of a contact that is not a member of the list does nothing, where the
  default adds it as an unsubscribed member.
- `remove-keeps-unsub`: `remove` of an unsubscribed member keeps a record of the unsubscription, so that a
  later `addnoforce` makes the contact an unsubscribed member again (`addforce` and `unsub` clear the
  record); the default's `remove` erases the unsubscription, and `addnoforce` then subscribes.
- `webhook-retry-10x10min`: a failed webhook delivery is retried 10 times, 10 minutes apart, then the
  callback is suspended (`Status: dead`), where the default retries every 30 s and gives up (suspending the
  callback) 24 h after the first failure.
- `property-names-lowercased`: a property definition is stored with its name lower-cased (a user report:
  one created as `Name` comes back as `name`), and a write (a bulk job's `Properties`, `managecontact`,
  a `contactdata` PUT) looks names up with their exact case: a contact naming `FirstName` where the
  definition is `firstname` is refused (`Property not defined`), the harsher of the two plausible
  readings (the other drops the value silently), where the default matches names whatever their case.
- `strict-property-types`: no text is coerced to a property's datatype: an `int` takes only a JSON
  integer (not `"42"`, `"42.0"` or `42.5`), a `float` only a JSON number, a `bool` only `true`/`false`,
  a `datetime` only RFC 3339 text or Unix seconds (a number), a `str` only text; anything else refuses
  that contact. The default coerces text (`"42"` to 42, `"true"` to true, most timestamp spellings)."""

from __future__ import annotations

from collections.abc import Iterable

from sandbox.exceptions import SandboxConfigError

READ_QUIRKS: dict[str, str] = {
    "fromts-exclusive": "FromTS and ToTS exclude their own second",
    "statcounters-no-countonly": "statcounters ignores countOnly and answers a page",
    "sort-unknown-400": "a Sort on a field the reference never names is refused (400)",
    "campaign-status-string": "a campaign's Status is a string",
    "sort-unknown-ignored": "a Sort on a field the reference never names is ignored (newest first)",
    "event-filter-send-time": "FromTS/ToTS on the event logs filter on the message's send time",
    "click-id-minus-one": "every clickstatistics row has ID -1",
    "bounce-id-is-message-id": "a bouncestatistics row's ID is its message's ID",
    "sms-uuid-ids": "SMS MessageId is a UUID string",
    "sms-page-cap-21": "/v4/sms answers at most 21 rows per call",
    "draft-axtesting-object": "a draft's AXTesting is an object",
}
WRITE_QUIRKS: dict[str, str] = {
    "job-status-in-progress": "a running job's Status is In Progress",
    "job-count-processed": "a finished job's Count counts refusals too",
    "job-report-bare-list": "the JSON error report is a bare list of rows",
    "job-report-lowercase-keys": "the error report's rows are keyed email/error",
    "job-report-empty": "ErrorFile is always set; the report is a 404 or {}",
    "errorfile-relative": "ErrorFile is a path relative to /v3/",
    "job-error-partial": "a job ends Error after applying the first half of its contacts",
    "bulk-invalid-email-400": "one invalid address refuses a whole bulk POST (400)",
    "listing-lag": "listings show memberships as before a job for SECONDS after it ends",
    "unsub-nonmember-noop": "unsub of a non-member does nothing",
    "remove-keeps-unsub": "remove keeps an unsubscription, which addnoforce finds again",
    "webhook-retry-10x10min": "a failed delivery is retried 10 times 10 minutes apart, then suspended",
    "property-names-lowercased": "property definitions are stored lower-cased; writes match names exactly",
    "strict-property-types": "property values are not coerced from text to their datatype",
}
KNOWN: dict[str, str] = {**READ_QUIRKS, **WRITE_QUIRKS}
# Quirks that take a value (`name=VALUE`), with the value `all` or a bare name gives them.
LISTING_LAG_DEFAULT = 2.0
# Pairs that exclude each other: `all` takes the first (the harsher).
EXCLUSIVE = (("sort-unknown-400", "sort-unknown-ignored"),)
# Sort fields the reference never names, per resource (refused under `sort-unknown-400`).
UNDOCUMENTED_SORTS: dict[str, frozenset[str]] = {
    "openinformation": frozenset({"OpenedAt"}),
    "clickstatistics": frozenset({"ClickedAt"}),
    "bouncestatistics": frozenset({"BouncedAt"}),
    "campaign": frozenset({"CreatedAt"}),
    "statcounters": frozenset({"SourceID"}),
}


class Quirks(frozenset[str]):
    """The names of the quirks that are on (a frozenset, so `name in quirks` reads as before), with the
    value of `listing-lag` (seconds; 0 when it is off)."""

    lag_seconds: float

    def __new__(cls, names: Iterable[str] = (), lag_seconds: float = 0.0) -> Quirks:
        made = super().__new__(cls, names)
        made.lag_seconds = lag_seconds if "listing-lag" in made else 0.0
        return made

    def spec(self) -> list[str]:
        """The names, sorted, with `listing-lag` as `listing-lag=SECONDS`: a spec that gives these back."""
        return sorted(f"listing-lag={self.lag_seconds:g}" if n == "listing-lag" else n for n in self)


def _lag(value: str) -> float:
    """The seconds of `listing-lag=SECONDS`; SandboxConfigError naming a bad value."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 86400:
        raise SandboxConfigError(
            f"--quirks listing-lag={value}: SECONDS must be a number from 0 to 86400, e.g. listing-lag=2"
        )
    return seconds


def parse_quirks(spec: str | None) -> Quirks:
    """The quirks a spec names; SandboxConfigError naming an unknown one."""
    names: set[str] = set()
    lag = LISTING_LAG_DEFAULT
    for part in (spec or "").split(","):
        name, has_value, value = (s.strip() for s in part.strip().lower().partition("="))
        if not name:
            continue
        if has_value and name != "listing-lag":
            raise SandboxConfigError(f"--quirks {part.strip()}: {name} takes no value; give it as {name}")
        if has_value:
            lag = _lag(value)
        names.add(name)
    if "all" in names:
        explicit = names - {"all"} - set(KNOWN)
        if explicit:
            raise SandboxConfigError(
                f"--quirks {', '.join(sorted(explicit))}: no such quirk; known: {', '.join(KNOWN)} (or all)"
            )
        return Quirks(set(KNOWN) - {gentler for _, gentler in EXCLUSIVE}, lag)
    unknown = sorted(names - set(KNOWN))
    if unknown:
        raise SandboxConfigError(
            f"--quirks {', '.join(unknown)}: no such quirk; known: {', '.join(KNOWN)} (or all)"
        )
    for harsher, gentler in EXCLUSIVE:
        if {harsher, gentler} <= names:
            raise SandboxConfigError(f"--quirks {harsher} and {gentler} exclude each other: choose one")
    return Quirks(names, lag)
