"""The sandbox's write quirks (sandbox/quirks.py): each ambiguous write behaviour answers the default way
with its quirk off and the other reading with it on. One sandbox for the module, whose jobs run until
`jobs/finish` ends them; each test switches its quirk on and off again."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from sandbox import settings
from sandbox.clock import Clock
from sandbox.exceptions import SandboxConfigError
from sandbox.jobs import finish_job
from sandbox.lag import lagged, subscriber_count
from sandbox.models import Job
from sandbox.quirks import KNOWN, LISTING_LAG_DEFAULT, READ_QUIRKS, WRITE_QUIRKS, parse_quirks
from sandbox.store import Store
from tests.conftest import FIXED_NOW, Api, start

LIST = 1001


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    """A small sandbox whose jobs keep running (a minute) until the test finishes them."""
    app = start(contacts=50, job_seconds=60)
    yield Api(app)
    app.stop()


@contextmanager
def quirk(api: Api, spec: str) -> Iterator[None]:
    """The sandbox under `spec`, back to no quirk afterwards."""
    assert api.admin("PUT", "quirks", {"spec": spec}).status_code == 200
    try:
        yield
    finally:
        api.admin("PUT", "quirks", {"spec": ""})


def post_job(api: Api, emails: list[str], action: str = "addnoforce", list_id: int = LIST) -> int:
    body = {"Action": action, "Contacts": [{"Email": e} for e in emails]}
    response = api.post(f"contactslist/{list_id}/managemanycontacts", body)
    assert response.status_code == 201, response.text
    return int(response.json()["Data"][0]["JobID"])


def job(api: Api, job_id: int, list_id: int = LIST) -> dict[str, Any]:
    return api.data(f"contactslist/{list_id}/managemanycontacts/{job_id}")[0]


def finished(api: Api, emails: list[str], action: str = "addnoforce", list_id: int = LIST) -> dict[str, Any]:
    """The final status object of a job on `emails`."""
    job_id = post_job(api, emails, action, list_id)
    api.finish_jobs()
    return {**job(api, job_id, list_id), "JobID": job_id}


def report(api: Api, job_id: int) -> Any:
    response = api.session.get(f"{api.base}/v3/DATA/batchjob/{job_id}/JSONError/application:json/LAST")
    assert response.status_code == 200, response.text
    return response.json()


def membership(api: Api, email: str, list_id: int = LIST) -> bool | None:
    """Whether `email` is an unsubscribed member of the list (None: not a member), through the REST API."""
    rows = api.data("listrecipient", ContactsList=list_id, ContactEmail=email)
    return None if not rows else bool(rows[0]["IsUnsubscribed"])


def test_a_running_job_says_in_progress(api: Api) -> None:
    default = job(api, post_job(api, ["running-1@example.com"]))
    with quirk(api, "job-status-in-progress"):
        other = job(api, post_job(api, ["running-2@example.com"]))
    api.finish_jobs()
    assert default["Status"] in settings.JOB_STATUSES
    assert other["Status"] == "In Progress"


def test_count_counts_refusals_too(api: Api) -> None:
    emails = ["count-1@example.com", "not-an-address", "count-2@example.com"]
    default = finished(api, emails)
    with quirk(api, "job-count-processed"):
        other = finished(api, [e.replace("count", "count-q") for e in emails])
    assert (default["Status"], default["Count"]) == ("Completed", 2)
    assert (other["Status"], other["Count"]) == ("Completed", 3)


def test_the_report_as_a_bare_list_or_with_lowercase_keys(api: Api) -> None:
    refused = {"Email": "not-an-address", "Error": "Invalid email address"}
    default = finished(api, ["report-1@example.com", "not-an-address"])
    assert report(api, default["JobID"]) == {"JobID": default["JobID"], "Errors": [refused]}
    with quirk(api, "job-report-bare-list"):
        bare = finished(api, ["report-2@example.com", "not-an-address"])
        assert report(api, bare["JobID"]) == [refused]
    with quirk(api, "job-report-lowercase-keys"):
        lower = finished(api, ["report-3@example.com", "not-an-address"])
        rows = report(api, lower["JobID"])["Errors"]
        assert rows == [{"email": "not-an-address", "error": "Invalid email address"}]


def test_an_errorfile_on_every_job_and_a_report_that_says_nothing(api: Api) -> None:
    default = finished(api, ["empty-1@example.com"])
    assert default["ErrorFile"] == ""
    answers = {}
    with quirk(api, "job-report-empty"):
        for n in (2, 3):  # two jobs in a row: one even ID, one odd
            done = finished(api, [f"empty-{n}@example.com"])
            assert done["Status"] == "Completed" and done["ErrorFile"]
            response = api.session.get(done["ErrorFile"])
            answers[done["JobID"] % 2] = (response.status_code, response.json())
            assert membership(api, f"empty-{n}@example.com") is False  # applied all the same
    assert answers[0][0] == 404
    assert answers[1] == (200, {})


def test_a_relative_errorfile(api: Api) -> None:
    default = finished(api, ["relative-1@example.com", "not-an-address"])
    assert default["ErrorFile"] == (
        f"{api.base}/v3/DATA/batchjob/{default['JobID']}/JSONError/application:json/LAST"
    )
    with quirk(api, "errorfile-relative"):
        other = finished(api, ["relative-2@example.com", "not-an-address"])
    path = f"DATA/batchjob/{other['JobID']}/JSONError/application:json/LAST"
    assert other["ErrorFile"] == path
    assert api.session.get(f"{api.base}/v3/{path}").json()["Errors"][0]["Email"] == "not-an-address"


def test_a_job_ends_in_error_having_applied_its_first_half(api: Api) -> None:
    default = finished(api, [f"half-{n}@example.com" for n in range(5)])
    assert (default["Status"], default["Error"]) == ("Completed", "")
    assert [membership(api, f"half-{n}@example.com") for n in range(5)] == [False] * 5
    with quirk(api, "job-error-partial"):
        other = finished(api, [f"half-q{n}@example.com" for n in range(5)])
        single = finished(api, ["half-single@example.com"])
    assert other["Status"] == "Error" and "after 3 of 5 contacts" in other["Error"]
    assert [membership(api, f"half-q{n}@example.com") for n in range(5)] == [False] * 3 + [None] * 2
    assert api.get("contact/half-q4@example.com").status_code == 404
    assert single["Status"] == "Error" and membership(api, "half-single@example.com") is False


def test_a_job_item_takes_isexcludedfromcampaigns_as_text(api: Api) -> None:
    body = {
        "Action": "addnoforce",
        "Contacts": [
            {"Email": "text-true@example.com", "IsExcludedFromCampaigns": "true"},
            {"Email": "text-false@example.com", "IsExcludedFromCampaigns": "False"},
        ],
    }
    assert api.post(f"contactslist/{LIST}/managemanycontacts", body).status_code == 201
    api.finish_jobs()
    assert api.data("contact/text-true@example.com")[0]["IsExcludedFromCampaigns"] is True
    assert api.data("contact/text-false@example.com")[0]["IsExcludedFromCampaigns"] is False
    wrong = {
        "Action": "addnoforce",
        "Contacts": [{"Email": "x@example.com", "IsExcludedFromCampaigns": "yes"}],
    }
    refused = api.post(f"contactslist/{LIST}/managemanycontacts", wrong)
    assert refused.status_code == 400 and "IsExcludedFromCampaigns" in refused.json()["ErrorMessage"]


@pytest.mark.unit
def test_the_quirks_split_into_reads_and_writes() -> None:
    assert set(READ_QUIRKS).isdisjoint(WRITE_QUIRKS) and KNOWN == {**READ_QUIRKS, **WRITE_QUIRKS}
    everything = parse_quirks("all")
    assert set(WRITE_QUIRKS) <= everything and everything.lag_seconds == LISTING_LAG_DEFAULT
    assert parse_quirks("all,listing-lag=5").lag_seconds == 5
    assert parse_quirks("listing-lag=0.5").spec() == ["listing-lag=0.5"]
    assert parse_quirks("listing-lag").lag_seconds == LISTING_LAG_DEFAULT
    assert parse_quirks("job-report-empty").lag_seconds == 0
    assert parse_quirks("fromts-exclusive") == {"fromts-exclusive"}  # still a set of names


@pytest.mark.unit
@pytest.mark.parametrize(
    ("spec", "message"),
    [
        pytest.param("listing-lag=soon", "listing-lag=soon: SECONDS must be a number", id="lag-not-a-number"),
        pytest.param("listing-lag=-1", "listing-lag=-1: SECONDS must be a number", id="lag-negative"),
        pytest.param("job-report-empty=1", "job-report-empty takes no value", id="value-on-a-plain-quirk"),
        pytest.param("all,nope", "nope: no such quirk", id="unknown-beside-all"),
    ],
)
def test_bad_quirk_values_are_refused_by_name(spec: str, message: str) -> None:
    with pytest.raises(SandboxConfigError, match=message):
        parse_quirks(spec)


@pytest.mark.parametrize(
    "resource",
    [f"contactslist/{LIST}/managemanycontacts", "contact/managemanycontacts"],
    ids=["list", "contact"],
)
def test_one_invalid_address_refuses_the_whole_post(api: Api, resource: str) -> None:
    def body(tag: str) -> dict[str, Any]:
        emails = [f"whole-{tag}-1@example.com", "not-an-address", f"whole-{tag}-2@example.com"]
        lists = {"ContactsLists": [{"ListID": LIST, "Action": "addnoforce"}]}
        action = lists if resource.startswith("contact/") else {"Action": "addnoforce"}
        return {**action, "Contacts": [{"Email": e} for e in emails]}

    default = api.post(resource, body("d"))
    assert default.status_code == 201
    api.finish_jobs()
    assert membership(api, "whole-d-1@example.com") is False  # the job refuses that contact alone
    with quirk(api, "bulk-invalid-email-400"):
        refused = api.post(resource, body("q"))
        api.finish_jobs()
    assert refused.status_code == 400
    error = refused.json()
    assert set(error) == {"ErrorInfo", "ErrorMessage", "StatusCode"} and error["StatusCode"] == 400
    assert '"not-an-address"' in error["ErrorMessage"] and "item 2" in error["ErrorMessage"]
    assert api.get("contact/whole-q-1@example.com").status_code == 404  # nothing applied


def test_unsub_of_a_non_member(api: Api) -> None:
    finished(api, ["outsider-1@example.com"], action="unsub")
    assert membership(api, "outsider-1@example.com") is True  # default: an unsubscribed member
    with quirk(api, "unsub-nonmember-noop"):
        finished(api, ["outsider-2@example.com"], action="unsub")
        assert membership(api, "outsider-2@example.com") is None
        assert (
            api.get("contact/outsider-2@example.com").status_code == 200
        )  # the contact is made all the same


def test_remove_keeps_or_erases_an_unsubscription(api: Api) -> None:
    def remove_then_add(email: str) -> bool | None:
        for action in ("addnoforce", "unsub", "remove"):
            finished(api, [email], action=action)
        assert membership(api, email) is None
        finished(api, [email], action="addnoforce")
        return membership(api, email)

    assert remove_then_add("comeback-1@example.com") is False  # default: removal erased it
    with quirk(api, "remove-keeps-unsub"):
        assert remove_then_add("comeback-2@example.com") is True
        for action in ("remove", "addforce"):  # addforce re-subscribes, and the record is gone
            finished(api, ["comeback-2@example.com"], action=action)
        for action in ("remove", "addnoforce"):
            finished(api, ["comeback-2@example.com"], action=action)
        assert membership(api, "comeback-2@example.com") is False


def lag_views(api: Api, list_id: int, removed_id: int) -> dict[str, Any]:
    """What the listings show of a list, and one removed membership by its ID."""
    counts = {int(str(r["ID"])): r["SubscriberCount"] for r in api.data("contactslist", Limit=0)}
    return {
        "listrecipient": sorted(
            (int(str(r["ContactID"])), bool(r["IsUnsubscribed"]))
            for r in api.data("listrecipient", ContactsList=list_id, Limit=0)
        ),
        "contact": sorted(str(c["Email"]) for c in api.data("contact", ContactsList=list_id, Limit=0)),
        "getcontactslists": [
            bool(m["IsUnsub"])
            for m in api.data("contact/lag-a@example.com/getcontactslists")
            if m["ListID"] == list_id
        ],
        "count": api.data(f"contactslist/{list_id}")[0]["SubscriberCount"],
        "counts": counts[list_id],
        "removed": api.get(f"listrecipient/{removed_id}").status_code,
    }


def lag_run(api: Api, spec: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The listings of a fresh list of two members before three jobs (an unsub, a remove, an add), right
    after them, and a minute later on the sandbox clock, under `spec`."""
    list_id = int(api.post("contactslist", {"Name": f"Lag {spec or 'none'}"}).json()["Data"][0]["ID"])
    finished(api, ["lag-a@example.com", "lag-b@example.com"], "addforce", list_id)
    rows = api.data("listrecipient", ContactsList=list_id, ContactEmail="lag-b@example.com")
    removed_id = int(str(rows[0]["ID"]))
    with quirk(api, spec):
        before = lag_views(api, list_id, removed_id)
        finished(api, ["lag-a@example.com"], "unsub", list_id)
        finished(api, ["lag-b@example.com"], "remove", list_id)
        finished(api, [f"lag-c-{list_id}@example.com"], "addnoforce", list_id)
        right_after = lag_views(api, list_id, removed_id)
        api.admin("POST", "clock", {"advance": 60})
        later = lag_views(api, list_id, removed_id)
    assert before["count"] == before["counts"] == 2 and before["removed"] == 200
    assert later["contact"] == ["lag-a@example.com", f"lag-c-{list_id}@example.com"]
    assert later["getcontactslists"] == [True]
    assert (later["count"], later["counts"], later["removed"]) == (1, 1, 404)
    return before, right_after, later


def test_listings_lag_behind_a_finished_job(api: Api) -> None:
    _, right_after, later = lag_run(api, "")
    assert right_after == later  # default: a job's changes show as soon as it ends
    before, right_after, _ = lag_run(api, "listing-lag=60")
    assert right_after == before


@pytest.mark.unit
def test_overlapping_lags_show_the_oldest_pending_state() -> None:
    store = Store(Clock(FIXED_NOW, frozen=True))
    store.quirks = parse_quirks("listing-lag=10")
    target = store.create_list("Overlaps")

    def run(action: str) -> None:
        contacts = [{"Email": "overlap@example.com"}]
        finish_job(
            store,
            Job(
                ID=store.new_id("job"),
                kind="list",
                RequestAt="",
                created=0,
                due=0,
                will_fail=False,
                list_id=target.ID,
                Method=action,
                contacts=contacts,
            ),
        )

    def shown() -> tuple[list[bool], int]:
        _, memberships, counts = store.lag.shown(store)
        rows = lagged(list(store.recipients_by_list[target.ID].values()), memberships, None, target.ID)
        return [r.IsUnsubscribed for r in rows], subscriber_count(target, counts)

    run("addforce")  # at 0: subscribes; shown as not a member until 10
    store.clock.advance(5)
    run("unsub")  # at 5: unsubscribes; shown as subscribed until 15
    assert shown() == ([], 0)
    store.clock.advance(6)
    assert shown() == ([False], 1)
    store.clock.advance(5)
    assert shown() == ([True], 0)


def failed_deliveries(api: Api, spec: str) -> tuple[list[dict[str, Any]], str]:
    """Attempts at delivering one event to a closed port under `spec`, flushed one by one until eleven are
    made, then one flush more: the log entries of that URL, and the callback's status then."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/{spec or 'default'}"
    callback = api.post("eventcallbackurl", {"EventType": "spam", "Url": url}).json()["Data"][0]

    def flush() -> list[dict[str, Any]]:
        assert api.admin("POST", "webhooks/flush").json()["flushed"] is True
        return [d for d in api.admin("GET", "webhooks").json()["deliveries"] if d["url"] == url]

    message_id = next(iter(api.app.store.messages.rows))
    with quirk(api, spec):
        assert api.admin("POST", "events", {"event": "spam", "message_id": message_id}).status_code == 200
        for _ in range(20):  # a flush makes one attempt more (the first attempt may come before it)
            if len(flush()) >= 11:
                break
        entries = flush()
    status = api.data(f"eventcallbackurl/{callback['ID']}")[0]["Status"]
    assert api.delete(f"eventcallbackurl/{callback['ID']}").status_code == 204
    return entries, str(status)


def test_a_failing_webhook_is_retried_ten_times_ten_minutes_apart_then_suspended(api: Api) -> None:
    default, alive = failed_deliveries(api, "")
    assert [d["attempt"] for d in default] == list(range(1, 13)) and alive == "alive"
    assert {d.get("retry_in") for d in default} == {30.0} and not any(d.get("gave_up") for d in default)
    older, dead = failed_deliveries(api, "webhook-retry-10x10min")
    assert [d["attempt"] for d in older] == list(range(1, 12)) and dead == "dead"  # no twelfth
    assert [d.get("retry_in") for d in older] == [600.0] * 10 + [None]
    assert older[-1]["gave_up"] is True


@pytest.mark.unit
def test_every_write_quirk_is_documented_with_its_default() -> None:
    import sandbox.quirks

    root = Path(__file__).resolve().parents[2]
    readme = (root / "docs" / "sandbox.md").read_text(encoding="utf-8")
    for name in WRITE_QUIRKS:
        shown = "listing-lag=SECONDS" if name == "listing-lag" else name
        assert f"`{shown}`:" in readme, f"docs/sandbox.md: no paragraph on {shown}"
        assert f"- `{shown}`:" in (sandbox.quirks.__doc__ or ""), f"sandbox/quirks.py: no entry for {shown}"
