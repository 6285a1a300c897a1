"""The read-back of a job's contacts against a real sandbox: what `read_back` says of each contact is what
the list shows, read with whichever costs fewer requests (one look-up per contact, or the list's pages)."""

from __future__ import annotations

from dlt.sources.helpers.rest_client.auth import HttpBasicAuth

from destinations.mailjet_lists.mailjet import read_back
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
