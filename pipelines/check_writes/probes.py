"""The write check's probes: a scratch list, a property and a few `@example.com` contacts, one bulk job of
each kind the sync sends (and the few more the readings need), each read back; what they show goes into
`Observations`. Every wait goes through a `Pacer`, so a test can move a sandbox's clock instead."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipelines.check_writes.readings import JobSeen, Observations
from sources.mailjet import settings
from sources.mailjet.client import MailjetHttp
from sources.mailjet.exceptions import MailjetBadRequest, MailjetJobTimeout, MailjetNotFound

LAG_BOUND_SECONDS = 10.0  # how long the first job's change is waited for in the listings
JOB_BOUND_SECONDS = 600.0  # how long a job may run before the check gives up on it
FIRST_WAIT_SECONDS = 0.25
MAX_WAIT_SECONDS = 10.0
CONTACT_JOBS = "contact/managemanycontacts"


@dataclass(frozen=True)
class Pacer:
    """The check's time: `now()` in seconds, `wait(seconds)` to let the account move on."""

    now: Callable[[], float] = time.monotonic
    wait: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class Scratch:
    """The names of what the check creates: a list, an `int` property, contacts at example.com."""

    stamp: str  # e.g. 20261206T213000Z-1a2b3c

    @property
    def list_name(self) -> str:
        return f"mailjet-elt-check-{self.stamp}"

    @property
    def property_name(self) -> str:
        return f"MjeltCheck_{self.stamp.replace('-', '_')}_Score"

    def email(self, tag: str) -> str:
        return f"mailjet-elt-check-{self.stamp}-{tag}@example.com".lower()

    def invalid(self) -> str:
        return f"mailjet-elt-check-{self.stamp}-invalid.example.com".lower()


@dataclass
class Created:
    """What the check made in the account, for the cleanup."""

    list_id: int | None = None
    property_id: int | None = None
    emails: list[str] = field(default_factory=list)


class Probes:
    """Runs the probes in order against one account; `step` says which one is running."""

    def __init__(self, http: MailjetHttp, pacer: Pacer, scratch: Scratch) -> None:
        self.http, self.pacer, self.scratch = http, pacer, scratch
        self.seen = Observations()
        self.made = Created()
        self.step = "setup"
        self.settle = 0.0  # how long after a job its change is waited for before the list is read
        self.prop = scratch.property_name

    def run(self) -> None:
        """Every probe, in order."""
        self.setup()
        self.first_add()
        self.add_with_refusals()
        self.unsub_remove_readd()
        self.update_with_text()

    def setup(self) -> None:
        made = self._created("contactslist", {"Name": self.scratch.list_name})
        self.made.list_id = int(made["ID"])
        self.seen.property_sent = self.prop
        defined = self._created(
            "contactmetadata", {"Name": self.prop, "Datatype": "int", "NameSpace": "static"}
        )
        self.made.property_id = int(defined["ID"])
        self.prop = self.seen.property_listed = str(defined.get("Name") or self.prop)

    def first_add(self) -> None:
        """An add of one contact: the running status word, whether the listings lag, a job that may end
        Error having applied it."""
        self.step = "the first addnoforce job"
        email = self._contact("a")
        self._job("addnoforce", [{"Email": email, "Properties": {self.prop: 42}}], clean=True)
        self.step = "reading the list after the first job"
        waited, previous = 0.0, 0.0
        delay = FIRST_WAIT_SECONDS
        while True:
            shown = self.membership(email)
            if shown is not None:
                self.seen.lag = (previous, waited)
                break
            if waited >= LAG_BOUND_SECONDS:
                break
            step = min(delay, LAG_BOUND_SECONDS - waited)
            self.pacer.wait(step)
            previous, waited, delay = waited, waited + step, delay * 2
        self.seen.first_applied = shown is not None
        self.seen.lag_bound = LAG_BOUND_SECONDS
        self.settle = waited

    def add_with_refusals(self) -> None:
        """An add with a value its property cannot take and an invalid address: Count, the report, and
        whether the address refuses the whole POST (then sent again without it)."""
        self.step = "the addnoforce job with refusals"
        bad_value: dict[str, Any] = {"Email": self._contact("f"), "Properties": {self.prop: "not a number"}}
        invalid: dict[str, Any] = {"Email": self.scratch.invalid()}
        fine = [{"Email": self._contact(t), "Properties": {self.prop: n}} for t, n in (("b", 7), ("c", 8))]
        contacts: list[dict[str, Any]] = [bad_value, invalid, *fine]
        resource = f"contactslist/{self.made.list_id}/managemanycontacts"
        try:
            job_id = self.http.start_job(resource, {"Action": "addnoforce", "Contacts": contacts})
        except MailjetBadRequest as exc:
            self.seen.whole_post_refused = str(exc)
            contacts = [bad_value, *fine]
            job_id = self.http.start_job(resource, {"Action": "addnoforce", "Contacts": contacts})
        job = self._poll(resource, job_id, "addnoforce", clean=False)
        self.step = "reading the list after the job with refusals"
        if self.settle:
            self.pacer.wait(self.settle)
        valid = [str(c["Email"]) for c in contacts if c is not invalid]
        applied = sum(1 for e in valid if self.membership(e) is not None)
        self.seen.count_job, self.seen.count_sent, self.seen.count_applied = job, len(contacts), applied
        self.step = "reading the job's error report"
        path = settings.DATA_PREFIX + settings.JOB_JSON_ERRORS.format(job_id=job_id)
        try:
            self.seen.report = (200, self.http.request("GET", path))
        except MailjetNotFound:
            self.seen.report = (404, None)

    def unsub_remove_readd(self) -> None:
        """unsub of a member and of a non-member, remove of the unsubscribed member, addnoforce of it."""
        member, stranger = self._contact("a"), self._contact("g")
        self.seen.after_unsub = self._action_read("unsub", member)
        self.seen.nonmember_after_unsub = self._action_read("unsub", stranger)
        self.seen.after_remove = self._action_read("remove", member)
        self.seen.after_readd = self._action_read("addnoforce", member)

    def update_with_text(self) -> None:
        """The sync's update job (contacts, no list) with an `int` property given as text."""
        self.step = "the update job"
        email = self._contact("e")
        job_id = self.http.start_job(
            CONTACT_JOBS, {"Contacts": [{"Email": email, "Properties": {self.prop: "42"}}]}
        )
        self._poll(CONTACT_JOBS, job_id, "update", clean=False)
        self.step = "reading the updated property"
        rows = self.http.get("contactdata", {"ContactEmail": email})
        values = rows[0].get("Data") if rows else None
        found = [v for v in values or [] if str(v.get("Name", "")).lower() == self.prop.lower()]
        self.seen.coerced = (
            str(found[0].get("Value")) if found and found[0].get("Value") not in ("", None) else None
        )

    def membership(self, email: str) -> bool | None:
        """Whether `email` is an unsubscribed member of the scratch list (None: not a member)."""
        rows = self.http.get(
            "listrecipient", {"ContactsList": self.made.list_id, "ContactEmail": email, "Limit": 10}
        )
        mine = [r for r in rows if int(r.get("ListID") or self.made.list_id or 0) == self.made.list_id]
        return bool(mine[0].get("IsUnsubscribed")) if mine else None

    def _action_read(self, action: str, email: str) -> bool | None:
        self.step = f"the {action} job"
        self._job(action, [{"Email": email}], clean=True)
        self.step = f"reading the list after the {action} job"
        if self.settle:
            self.pacer.wait(self.settle)
        return self.membership(email)

    def _created(self, resource: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST `body` to create one object: Mailjet's row for it, with its numeric ID."""
        rows = self.http.post(resource, body)
        row = rows[0] if rows and isinstance(rows[0], dict) else {}
        if isinstance(row.get("ID"), bool) or not isinstance(row.get("ID"), int):
            raise self.http.unexpected(
                "POST", f"/v3/REST/{resource}", {"Data": rows}, "Data: the row created"
            )
        return row

    def _contact(self, tag: str) -> str:
        email = self.scratch.email(tag)
        if email not in self.made.emails:
            self.made.emails.append(email)
        return email

    def _job(self, action: str, contacts: list[dict[str, Any]], clean: bool) -> JobSeen:
        resource = f"contactslist/{self.made.list_id}/managemanycontacts"
        job_id = self.http.start_job(resource, {"Action": action, "Contacts": contacts})
        return self._poll(resource, job_id, action, clean)

    def _poll(self, resource: str, job_id: int, kind: str, clean: bool) -> JobSeen:
        """Poll a job from at once until it ends (waits doubling up to MAX_WAIT_SECONDS)."""
        statuses: list[str] = []
        began, delay = self.pacer.now(), FIRST_WAIT_SECONDS
        while True:
            rows = self.http.get(f"{resource}/{job_id}")
            final = rows[0] if rows and isinstance(rows[0], dict) else {}
            status = str(final.get("Status"))
            if not statuses or statuses[-1] != status:
                statuses.append(status)
            if status in settings.JOB_DONE | settings.JOB_FAILED:
                break
            if self.pacer.now() - began >= JOB_BOUND_SECONDS:
                raise MailjetJobTimeout(f"job {job_id} is still {status} after {JOB_BOUND_SECONDS:g} s")
            self.pacer.wait(delay)
            delay = min(delay * 2, MAX_WAIT_SECONDS)
        job = JobSeen(kind, job_id, statuses, final, clean)
        self.seen.jobs.append(job)
        return job
