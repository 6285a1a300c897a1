"""The read-back of a job's contacts against a real sandbox: what `read_back` says of each contact is what
the list shows, read with whichever costs fewer requests (one look-up per contact, or the list's pages)."""

from __future__ import annotations

from dlt.sources.helpers.rest_client.auth import HttpBasicAuth

from destinations.mailjet_lists.mailjet import read_back, start_job, wait_for_job
from destinations.mailjet_lists.outcomes import Action
from destinations.mailjet_lists.readback import Patience, job_outcomes
from sources.mailjet.client import HttpSettings, MailjetHttp
from tests.conftest import Api

LIST = 1001


def test_read_back_reads_what_costs_fewer_requests_and_says_what_the_list_shows(api: Api) -> None:
    http = MailjetHttp(
        api.base, HttpBasicAuth(api.app.config.api_key, api.app.config.api_secret), HttpSettings()
    )
    emails = {int(str(c["ID"])): str(c["Email"]).lower() for c in api.data("contact", Limit=1000)}
    shown = {
        emails[int(str(r["ContactID"]))]: bool(r["IsUnsubscribed"])
        for r in api.data("listrecipient", ContactsList=LIST, Limit=1000)
    }
    assert 0 < len(shown) <= 1000 and any(shown.values())  # one page, with unsubscribed members
    outsider = sorted(set(emails.values()) - set(shown))[0]
    unsubscribed = sorted(e for e, u in shown.items() if u)[0]
    subscribed = sorted(e for e, u in shown.items() if not u)

    def reads(action: str, asked: list[str]) -> tuple[dict[str, bool], int]:
        before = http.stats.requests
        state = read_back(http, LIST, action, asked)  # type: ignore[arg-type]
        return state, http.stats.requests - before

    # One contact: one look-up, exact (a member unsubscribed, a contact not a member, an unknown address).
    assert reads("unsub", [unsubscribed]) == ({unsubscribed: True}, 1)
    assert reads("addnoforce", [outsider]) == ({}, 1)
    assert reads("remove", ["nobody@example.com"]) == ({}, 1)
    # Two contacts on a list of one page: after the count, its page (one request) rather than two look-ups;
    # for an unsubscribe, the page, the unsubscribed members' count and page would be three: looked up.
    assert reads("addnoforce", [outsider, subscribed[0]]) == ({subscribed[0]: False}, 2)
    assert reads("unsub", [outsider, subscribed[0]]) == ({subscribed[0]: False}, 3)
    # Many contacts: the count and the list's contacts' page; for an unsubscribe, its unsubscribed members'
    # count and page too.
    many = [*subscribed[:9], outsider, unsubscribed]
    assert reads("addnoforce", many) == ({e: False for e in [*subscribed[:9], unsubscribed]}, 2)
    assert reads("unsub", many) == ({**{e: False for e in subscribed[:9]}, unsubscribed: True}, 4)


def _row(email: str, contact_id: int | None = None) -> dict[str, object]:
    return {"run_id": 1, "audience": "large", "email": email, "reason": "joined", "contact_id": contact_id}


def _job(api: Api, http: MailjetHttp, list_id: int, action: Action, rows: list[dict[str, object]]) -> int:
    """Run the bulk job of `rows` to its end: its ID."""
    resource, job_id = start_job(http, list_id, action, rows)
    api.finish_jobs()
    assert wait_for_job(http, resource, job_id).status == "Completed"
    return job_id


def test_a_small_batch_on_a_large_list_reads_back_in_a_handful_of_requests(api: Api) -> None:
    http = MailjetHttp(
        api.base, HttpBasicAuth(api.app.config.api_key, api.app.config.api_secret), HttpSettings()
    )
    made = api.post("contactslist", {"Name": "Large"})
    assert made.status_code == 201, made.text
    big = int(str(made.json()["Data"][0]["ID"]))
    known = {str(c["Email"]).lower(): int(str(c["ID"])) for c in api.data("contact", Limit=1000)}
    members = sorted(known)[:6]  # the list's oldest memberships, the first unsubscribed
    _job(api, http, big, "addnoforce", [_row(e) for e in members])
    _job(api, http, big, "unsub", [_row(members[0])])
    for start in (0, 3000):
        _job(
            api, http, big, "addnoforce", [_row(f"crowd{n}@example.com") for n in range(start, start + 3000)]
        )
    assert http.count("contact", {"ContactsList": big}) == 6006
    resource = f"contactslist/{big}/managemanycontacts"

    # One small batch: twenty new contacts, five contacts Mailjet had, one member added again.
    fresh = [f"new{n}@example.com" for n in range(20)]
    old = sorted(set(known) - set(members))[:5]
    rows = [_row(e) for e in fresh] + [_row(e, known[e]) for e in [*old, members[1]]]
    job_id = start_job(http, big, "addnoforce", rows)[1]
    api.finish_jobs()
    before = http.stats.requests
    status, changes = job_outcomes(http, big, "addnoforce", resource, job_id, rows, Patience(0))
    assert status == "Completed" and [c.outcome for c in changes] == ["done"] * 26
    # The poll, the newest memberships' page, the newest contacts' page, the re-added member's look-up;
    # never the list's count and seven pages.
    assert http.stats.requests - before == 4

    # Five members unsubscribed: the unsubscribed members' count and page, not the list's pages; the one
    # without a contact ID is looked up.
    leaving = [_row(e, known[e]) for e in members[1:5]] + [_row(fresh[0])]
    job_id = start_job(http, big, "unsub", leaving)[1]
    api.finish_jobs()
    before = http.stats.requests
    status, changes = job_outcomes(http, big, "unsub", resource, job_id, leaving, Patience(0))
    assert status == "Completed" and [c.outcome for c in changes] == ["done"] * 5
    assert http.stats.requests - before == 4
