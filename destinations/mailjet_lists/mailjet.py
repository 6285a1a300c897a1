"""Every Mailjet call of the write path: bulk jobs started and waited for, their error reports, the members
unsubscribed from a list, a list created, contact properties defined and read, the touched contacts read
back after a job. Listings are read through the source's pager."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from destinations.mailjet_lists.exceptions import ListNotEmpty, ListNotFound
from destinations.mailjet_lists.outcomes import Action
from destinations.mailjet_lists.payloads import Row, job_request
from destinations.mailjet_lists.properties import Datatype, Definition, definitions_by_name
from destinations.mailjet_lists.readplan import (
    newest_first,
    newest_pages,
    read_on,
    rest_reads,
    unsub_listing,
)
from destinations.mailjet_lists.verify import list_state
from sources.mailjet.client import JobResult, MailjetHttp
from sources.mailjet.exceptions import (
    MailjetAuthError,
    MailjetBadRequest,
    MailjetError,
    MailjetNotFound,
)
from sources.mailjet.paging import Listing, PageReader
from sources.mailjet.settings import DATA_PREFIX, JOB_JSON_ERRORS, PAGE_SIZE_MAX, REST_PREFIX


def start_job(http: MailjetHttp, list_id: int, action: Action, rows: Sequence[Row]) -> tuple[str, int]:
    """Start the bulk job for `rows` (one list, one action): its resource and JobID."""
    resource, body = job_request(list_id, action, rows)
    return resource, http.start_job(resource, body)


def wait_for_job(http: MailjetHttp, resource: str, job_id: int) -> JobResult:
    """Poll the job until it ends: its final status object (its error report is read apart, when the list
    does not show a change: `job_report`)."""
    return http.wait_for_job(resource, job_id, report=False)


def job_report(http: MailjetHttp, job_id: int) -> Any:
    """The body of a bulk job's JSON error report as Mailjet answers it, or None when it cannot be read (a
    404, an answer that is not JSON, a server error past the retries): the report only gives error text,
    so not reading it never changes an outcome. Bad credentials still stop the load."""
    try:
        return http.request("GET", DATA_PREFIX + JOB_JSON_ERRORS.format(job_id=job_id))
    except MailjetAuthError:
        raise
    except MailjetError:
        return None


def read_back(
    http: MailjetHttp, list_id: int, action: Action, emails: Mapping[str, int] | Sequence[str]
) -> dict[str, bool]:
    """Of `emails` (lowercase; or lowercase email -> contact ID, 0 when unknown), those the list has as
    members now -> whether unsubscribed. An add is found first among the list's newest memberships (by
    contact ID) and newest contacts (the others), a few pages bounded by the batch; an unsubscribe of
    contacts whose IDs are known among the list's unsubscribed members, when their pages are fewer than
    the contacts. Only what is found there is taken from there; the rest, and a removal, are read with
    whichever costs fewer requests (`readplan`): one `listrecipient` look-up each, or the list whole."""
    ids = dict(emails) if isinstance(emails, Mapping) else dict.fromkeys(emails, 0)
    state: dict[str, bool] = {}
    if action == "addnoforce" and newest_pages(len(ids)):
        known = {i: e for e, i in ids.items() if i}
        state.update(_newest(http, "listrecipient", list_id, known, len(ids)))
        unknown = [e for e, i in ids.items() if not i]
        state.update(_newest(http, "contact", list_id, {e: e for e in unknown}, len(unknown)))
    elif action == "unsub" and len(ids) > 1 and any(ids.values()):
        state.update(_unsubscribed_members(http, list_id, {i: e for e, i in ids.items() if i}))
    state.update(_exact(http, list_id, action, sorted(set(ids) - set(state))))
    return state


def _newest(
    http: MailjetHttp, resource: str, list_id: int, wanted: Mapping[Any, str], batch: int
) -> dict[str, bool]:
    """Of `wanted` (contact ID -> email on `listrecipient`, email -> email on `contact`), those found on the
    list's newest pages of `resource` (`Sort=ID DESC`) -> whether unsubscribed; read while `read_on` says
    so, `newest_pages(batch)` at most (a Sort refused or not honoured ends it: what is read is the list's
    all the same, but not its newest)."""
    found: dict[str, bool] = {}
    last: int | None = None
    for number in range(newest_pages(batch) if wanted else 0):
        params = {"ContactsList": list_id, "Sort": "ID DESC", "Limit": PAGE_SIZE_MAX}
        try:
            page = http.get(resource, {**params, "Offset": number * PAGE_SIZE_MAX})
        except MailjetBadRequest:  # a Sort refused
            break
        before = len(found)
        for row in page:
            key = int(row.get("ContactID") or 0) if resource == "listrecipient" else str(row["Email"]).lower()
            if key in wanted:
                found[wanted[key]] = bool(row.get("IsUnsubscribed"))
        row_ids = [int(row.get("ID") or 0) for row in page]
        ordered = newest_first(row_ids, last)
        if not read_on(len(wanted), len(found), len(found) - before, len(page), ordered):
            break
        last = row_ids[-1]
    return found


def _unsubscribed_members(http: MailjetHttp, list_id: int, wanted: Mapping[int, str]) -> dict[str, bool]:
    """Of `wanted` (contact ID -> email), those the list shows unsubscribed (-> True), from its
    unsubscribed members' pages when fewer than the contacts (else none: they are looked up)."""
    params = {"ContactsList": list_id, "Unsub": "true"}
    unsubscribed = http.count("listrecipient", params)
    if not unsub_listing(len(wanted), unsubscribed):
        return {}
    rows = _listing(http, "listrecipient", params, unsubscribed)
    shown = [int(r.get("ContactID") or 0) for r in rows if r.get("IsUnsubscribed")]
    return {wanted[contact_id]: True for contact_id in shown if contact_id in wanted}


def _exact(http: MailjetHttp, list_id: int, action: Action, emails: Sequence[str]) -> dict[str, bool]:
    """Of `emails`, those the list has as members -> whether unsubscribed, with whichever costs fewer
    requests: one `listrecipient` look-up per contact, or the list's pages (one `countOnly` says how many):
    its contacts (members in any state), with its unsubscribed members for an unsubscribe (the only action
    whose outcome needs them; the others' members read as subscribed)."""
    wanted = set(emails)
    if len(wanted) > 1:
        members = http.count("contact", {"ContactsList": list_id})
        if rest_reads(len(wanted), members, action == "unsub") == "list":
            state = _list_members(http, list_id, members, action == "unsub")
            return {e: u for e, u in state.items() if e in wanted}
    state = {}
    for email in sorted(wanted):
        try:
            found = http.get("listrecipient", {"ContactsList": list_id, "ContactEmail": email, "Limit": 10})
        except MailjetNotFound:  # a contact Mailjet does not have (one it refused): no member
            continue
        for member in found:
            if int(member.get("ListID") or list_id) == list_id:
                state[email] = bool(member.get("IsUnsubscribed"))
    return state


def _list_members(http: MailjetHttp, list_id: int, members: int, unsubscribed: bool) -> dict[str, bool]:
    """email -> unsubscribed for each of the list's `members` (counted already), from its contacts' pages;
    whether they are unsubscribed only when asked (the pages of its unsubscribed members), else False."""
    contacts = _listing(http, "contact", {"ContactsList": list_id}, members)
    state = {str(c["Email"]).lower(): False for c in contacts}
    if unsubscribed:
        recipients = _all(http, "listrecipient", {"ContactsList": list_id, "Unsub": "true"})
        state.update(list_state(contacts, recipients))
        state.pop("", None)  # an unsubscribed member the contact pages did not list
    return state


def unsubscribed_among(http: MailjetHttp, list_id: int, rows: Sequence[Row]) -> dict[str, str | None]:
    """Of `rows` (changes to one list), those Mailjet shows unsubscribed from it now: lowercase email ->
    when they unsubscribed (`UnsubscribedAt`; None without a date). Read with whichever costs fewer
    calls: the listing of the list's unsubscribed members (matched by contact ID), or one look-up per
    row; a row without a contact ID is always looked up by its address."""
    emails = {str(r["email"]).strip().lower(): int(r.get("contact_id") or 0) for r in rows}
    by_id = {contact_id: email for email, contact_id in emails.items() if contact_id}
    found: dict[str, str | None] = {}
    lookups = [email for email, contact_id in emails.items() if not contact_id]
    if by_id:
        listed = http.count("listrecipient", {"ContactsList": list_id, "Unsub": "true"})
        if -(-listed // PAGE_SIZE_MAX) <= len(by_id):
            for member in _all(http, "listrecipient", {"ContactsList": list_id, "Unsub": "true"}):
                email = by_id.get(int(member.get("ContactID") or 0))
                if email is not None and member.get("IsUnsubscribed"):
                    found[email] = unsubscription_date(member.get("UnsubscribedAt"))
        else:
            lookups += list(by_id.values())
    for email in lookups:
        for member in http.get(
            "listrecipient", {"ContactsList": list_id, "ContactEmail": email, "Limit": 10}
        ):
            if member.get("IsUnsubscribed") and int(member.get("ListID") or list_id) == list_id:
                found[email] = unsubscription_date(member.get("UnsubscribedAt"))
    return found


def unsubscription_date(value: Any) -> str | None:
    """Mailjet's timestamp in ISO form, or None for its empty string or anything that is not a time (an
    undated unsubscription is still one)."""
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).isoformat() if value else None
    except ValueError:
        return None


def create_list(http: MailjetHttp, ref: str) -> tuple[int, str, bool]:
    """(ID, name, whether it was made now) of a new Mailjet list named `ref`, for an audience whose list
    the extract did not see. One Mailjet has since (names are unique, whatever their case) is used only
    while it has no member (one an apply created before it was stopped): members the sync did not add
    must never count as its own (ListNotEmpty). A list named by an ID is never created (ListNotFound)."""
    if ref.isdigit():
        raise ListNotFound(
            f"list {ref}: Mailjet has no list of that ID in the extract; name the list in audiences.sql to "
            "have apply create it, or extract and plan again"
        )
    for row in http.get("contactslist", {"Name": ref, "Limit": 10}):
        if str(row.get("Name", "")).lower() == ref.lower() and not row.get("IsDeleted"):
            if http.count("listrecipient", {"ContactsList": int(row["ID"])}):
                raise ListNotEmpty(
                    f"list {row.get('Name')!r} exists in Mailjet with members, but the extract did not see "
                    "it when the plan was made: run extract and plan again, then apply"
                )
            return int(row["ID"]), str(row.get("Name")), False
    made = http.post("contactslist", {"Name": ref})
    return int(made[0]["ID"]), ref, True


def read_definitions(http: MailjetHttp) -> dict[str, Definition]:
    """The contact property definitions Mailjet has, keyed by their lowercase name."""
    return definitions_by_name(_all(http, "contactmetadata", {}))


def ensure_properties(
    http: MailjetHttp,
    names: list[str],
    created: Callable[[str], None] = lambda name: None,
    datatypes: Mapping[str, Datatype] | None = None,
) -> dict[str, Definition]:
    """Create the contact property definitions Mailjet lacks (matched by name whatever its case), each with
    the datatype `datatypes` gives for it (by lowercase name; `str` without one), so their values are
    accepted; `created` is told each name as soon as it is created. The definitions, keyed by lowercase
    name, as Mailjet lists them (a created one as Mailjet's answer names it: it may change its case)."""
    if not names:
        return {}
    known = read_definitions(http)
    types = {k.lower(): v for k, v in (datatypes or {}).items()}
    for name in names:
        if name.lower() not in known:
            datatype = types.get(name.lower(), "str")
            made = http.post("contactmetadata", {"Name": name, "Datatype": datatype, "NameSpace": "static"})
            known.update(definitions_by_name(made) or {name.lower(): Definition(name, datatype)})
            created(name)
    return known


def _all(http: MailjetHttp, resource: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every row of a listing, through the source's pager."""
    return PageReader(http, PAGE_SIZE_MAX, 1).rows(resource, params)


def _listing(http: MailjetHttp, resource: str, params: dict[str, Any], total: int) -> list[dict[str, Any]]:
    """Every row of a listing whose `total` is counted already, through the source's pager."""
    found: list[dict[str, Any]] = []
    listing = Listing(f"{REST_PREFIX}/{resource}", params, total)
    for page in PageReader(http, PAGE_SIZE_MAX, 1).read([listing], lambda page: page):
        found.extend(page)
    return found
