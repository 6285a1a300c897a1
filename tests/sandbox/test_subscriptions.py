"""Subscription semantics of every endpoint that changes list membership, checked against a model."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Api, start

ACTIONS = ("addforce", "addnoforce", "unsub", "remove")


def membership(api: Api, email: str, list_id: int) -> dict[str, Any] | None:
    rows = [r for r in api.data("listrecipient", ContactEmail=email) if r["ListID"] == list_id]
    assert len(rows) <= 1
    return rows[0] if rows else None


def model(state: str | None, action: str) -> str | None:
    """Mailjet's documented semantics: None = no membership, 'sub' / 'unsub' = membership state."""
    if action == "addforce":
        return "sub"
    if action == "addnoforce":
        return state or "sub"
    if action == "unsub":
        return "unsub"
    return None


def test_each_action_from_each_state(api: Api) -> None:
    for start_action in (None, "addforce", "unsub"):
        for action in ACTIONS:
            email = f"{start_action}-{action}@example.com"
            if start_action:
                r = api.post("contactslist/1001/managecontact", {"Email": email, "Action": start_action})
                assert r.status_code == 201
            before = "sub" if start_action == "addforce" else "unsub" if start_action == "unsub" else None
            r = api.post("contactslist/1001/managecontact", {"Email": email, "Action": action})
            assert r.status_code == 201, r.text
            row = membership(api, email, 1001)
            expected = model(before, action)
            got = None if row is None else ("unsub" if row["IsUnsubscribed"] else "sub")
            assert got == expected, (start_action, action)
            if row is not None and row["IsUnsubscribed"]:
                assert row["UnsubscribedAt"] != ""


def test_addnoforce_never_clears_an_unsubscription(api: Api) -> None:
    unsub = api.data("listrecipient", ContactsList=1001, Unsub="true", Limit=0)
    emails = [api.data(f"contact/{r['ContactID']}")[0]["Email"] for r in unsub[:5]]
    job = api.post(
        "contactslist/1001/managemanycontacts",
        {"Action": "addnoforce", "Contacts": [{"Email": e} for e in emails]},
    ).json()["Data"][0]["JobID"]
    api.finish_jobs()
    status = api.data(f"contactslist/1001/managemanycontacts/{job}")[0]
    assert status["Status"] == "Completed" and status["Count"] == 5
    for email in emails:
        row = membership(api, str(email), 1001)
        assert row is not None and row["IsUnsubscribed"] is True


def test_addforce_resubscribes(api: Api) -> None:
    rec = api.data("listrecipient", ContactsList=1001, Unsub="true", Limit=1)[0]
    email = api.data(f"contact/{rec['ContactID']}")[0]["Email"]
    api.post("contactslist/1001/managecontact", {"Email": email, "Action": "addforce"})
    row = membership(api, str(email), 1001)
    assert row is not None and row["IsUnsubscribed"] is False and row["UnsubscribedAt"] == ""


def test_managecontactslists_applies_per_list_actions(api: Api) -> None:
    email = "multi@example.com"
    api.post("contact", {"Email": email})
    r = api.post(
        f"contact/{email}/managecontactslists",
        {"ContactsLists": [{"ListID": 1001, "Action": "addnoforce"}, {"ListID": 1002, "Action": "unsub"}]},
    )
    assert r.status_code == 201
    assert r.json()["Data"][0]["ContactsLists"] == [
        {"Action": "addnoforce", "ListID": 1001},
        {"Action": "unsub", "ListID": 1002},
    ]
    lists = {row["ListID"]: row for row in api.data(f"contact/{email}/getcontactslists")}
    assert lists[1001]["IsUnsub"] is False and lists[1002]["IsUnsub"] is True
    bad = api.post(
        f"contact/{email}/managecontactslists", {"ContactsLists": [{"ListID": 424242, "Action": "x"}]}
    )
    assert bad.status_code == 400
    assert bad.json()["ErrorMessage"]["ContactsLists"][0]["Error"] == "listID missing or not valid"


def test_contact_managemanycontacts_many_lists(api: Api) -> None:
    body = {
        "ContactsLists": [{"ListID": 1003, "Action": "addforce"}, {"ListID": 1004, "action": "unsub"}],
        "Contacts": [
            {"Email": "bulk1@example.com", "Name": "Bulk One", "Properties": {"country": "DE"}},
            {"Email": "bulk2@example.com", "IsExcludedFromCampaigns": True},
            {"Email": "broken@", "Name": "bad"},
        ],
    }
    job = api.post("contact/managemanycontacts", body).json()["Data"][0]["JobID"]
    first = api.data(f"contact/managemanycontacts/{job}")[0]
    assert first["Status"] in ("Allocated", "Upload", "Prepare", "Importing")
    api.finish_jobs()
    done = api.data(f"contact/managemanycontacts/{job}")[0]
    assert done["Status"] == "Completed" and done["Count"] == 2 and done["ErrorFile"]
    assert membership(api, "bulk1@example.com", 1003)["IsUnsubscribed"] is False  # type: ignore[index]
    assert membership(api, "bulk1@example.com", 1004)["IsUnsubscribed"] is True  # type: ignore[index]
    assert api.data("contact/bulk2@example.com")[0]["IsExcludedFromCampaigns"] is True
    props = {d["Name"]: d["Value"] for d in api.data("contactdata/bulk1@example.com")[0]["Data"]}
    assert props["country"] == "DE"
    report = api.session.get(f"{api.base}/v3/DATA/batchjob/{job}/JSONError/application:json/LAST").json()
    assert report["Errors"] == [{"Email": "broken@", "Error": "Invalid email address"}]


def test_listrecipient_crud_and_subscriber_count(api: Api) -> None:
    before = api.data("contactslist/1005")[0]["SubscriberCount"]
    contact = api.post("contact", {"Email": "lr@example.com"}).json()["Data"][0]
    created = api.post("listrecipient", {"ContactAlt": "lr@example.com", "ListID": 1005})
    assert created.status_code == 201
    rec = created.json()["Data"][0]
    assert (
        rec["ContactID"] == contact["ID"] and rec["ListName"] == "VIP customers" and rec["IsActive"] is True
    )
    assert api.data("contactslist/1005")[0]["SubscriberCount"] == before + 1
    dup = api.post("listrecipient", {"ContactID": contact["ID"], "ListID": 1005})
    assert dup.status_code == 400 and "MJ18" in dup.json()["ErrorMessage"]
    unsub = api.put(f"listrecipient/{rec['ID']}", {"IsUnsubscribed": True}).json()["Data"][0]
    assert unsub["IsUnsubscribed"] is True and unsub["UnsubscribedAt"] != ""
    assert api.data("contactslist/1005")[0]["SubscriberCount"] == before
    assert api.put(f"listrecipient/{rec['ID']}", {"IsUnsubscribed": True}).status_code == 304
    assert api.delete(f"listrecipient/{rec['ID']}").status_code == 204
    assert api.get(f"listrecipient/{rec['ID']}").status_code == 404


def test_properties_are_validated_on_managecontact(api: Api) -> None:
    r = api.post(
        "contactslist/1001/managecontact",
        {"Email": "p@example.com", "Action": "addnoforce", "Properties": {"nope": 1, "orders": "x"}},
    )
    assert r.status_code == 400
    body = r.json()
    assert body["ErrorMessage"] == "Object properties invalid"
    assert {"nope": "Property not defined"} in body["ErrorInfo"]["Properties"]
    assert {"orders": "Property type does not match definition"} in body["ErrorInfo"]["Properties"]
    assert membership(api, "p@example.com", 1001) is None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(ACTIONS), st.sampled_from(("one", "bulk"))), max_size=8))
def test_any_sequence_of_actions_matches_the_model(steps: list[tuple[str, str]]) -> None:
    app = start(contacts=20, job_seconds=0)
    api = Api(app)
    try:
        email, state = "seq@example.com", None
        for action, via in steps:
            if via == "one":
                r = api.post("contactslist/1001/managecontact", {"Email": email, "Action": action})
                assert r.status_code == 201
            else:
                r = api.post(
                    "contactslist/1001/managemanycontacts", {"Action": action, "Contacts": [{"Email": email}]}
                )
                job = r.json()["Data"][0]["JobID"]
                assert api.data(f"contactslist/1001/managemanycontacts/{job}")[0]["Status"] == "Completed"
            state = model(state, action)
            row = membership(api, email, 1001)
            assert (None if row is None else "unsub" if row["IsUnsubscribed"] else "sub") == state
    finally:
        app.stop()
