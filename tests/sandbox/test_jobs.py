"""Async jobs: status progression, injected failures and refusals with error reports, CSV imports."""

from __future__ import annotations

import json
import time
from typing import Any

from sources.mailjet.client import MailjetHttp
from sources.mailjet.config import MailjetConfiguration
from tests.conftest import Api, start

REFUSED = "Contact refused (injected fault)"


def upload(api: Api, list_id: int, text: str) -> int:
    response = api.session.post(
        f"{api.base}/v3/DATA/contactslist/{list_id}/CSVData/text:plain",
        data=text.encode(),
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"ID"}
    return int(body["ID"])


def test_job_moves_through_statuses_over_time(api: Api) -> None:
    job = api.post(
        "contactslist/1002/managemanycontacts",
        {"Action": "addnoforce", "Contacts": [{"Email": "t@example.com"}]},
    ).json()["Data"][0]["JobID"]
    seen = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        status = api.data(f"contactslist/1002/managemanycontacts/{job}")[0]["Status"]
        if not seen or seen[-1] != status:
            seen.append(status)
        if status == "Completed":
            break
        time.sleep(0.02)
    assert seen[-1] == "Completed" and len(seen) >= 2
    order = ["Allocated", "Upload", "Prepare", "Importing", "Completed"]
    assert [order.index(s) for s in seen] == sorted(order.index(s) for s in seen)


def test_failing_jobs_end_in_error_and_change_nothing() -> None:
    app = start(faults="job_fail_rate=1")
    api = Api(app)
    try:
        job = api.post(
            "contactslist/1001/managemanycontacts",
            {"Action": "addforce", "Contacts": [{"Email": "nope@example.com"}]},
        ).json()["Data"][0]["JobID"]
        api.finish_jobs()
        status = api.data(f"contactslist/1001/managemanycontacts/{job}")[0]
        assert status["Status"] == "Error" and status["Error"] and status["ErrorFile"]
        report = api.session.get(status["ErrorFile"]).json()
        assert report["Errors"] == [{"Email": "nope@example.com", "Error": "job aborted"}]
        assert api.get("contact/nope@example.com").status_code == 404
    finally:
        app.stop()


def members(api: Api, list_id: int) -> dict[int, bool]:
    """ContactID -> IsUnsubscribed for every membership of a list, through the REST API."""
    rows = api.data("listrecipient", ContactsList=list_id, Limit=0)
    return {int(str(r["ContactID"])): bool(r["IsUnsubscribed"]) for r in rows}


def contact_count(api: Api) -> int:
    response = api.get("contact", countOnly=1)
    assert response.status_code == 200
    return int(response.json()["Total"])


def test_refused_contacts_change_nothing_and_the_job_still_completes() -> None:
    app = start(faults="job_refuse_rate=1")
    api = Api(app)
    try:
        subscribed = [cid for cid, unsub in members(api, 1001).items() if not unsub]
        member = api.data(f"contact/{subscribed[0]}")[0]
        props_before = api.data(f"contactdata/{member['ID']}")
        lists_before = {lid: members(api, lid) for lid in (1001, 1003)}
        total_before = contact_count(api)
        contacts: list[dict[str, Any]] = [
            {
                "Email": member["Email"],
                "Name": "Renamed By Job",
                "IsExcludedFromCampaigns": not member["IsExcludedFromCampaigns"],
                "Properties": {"country": "XX"},
            },
            {"Email": "refused1@example.com", "Name": "New One"},
            {"Email": "Refused2@Example.com"},
        ]
        lists = [{"ListID": 1001, "Action": "unsub"}, {"ListID": 1003, "Action": "addforce"}]
        created = api.post("contact/managemanycontacts", {"ContactsLists": lists, "Contacts": contacts})
        job = created.json()["Data"][0]["JobID"]
        api.finish_jobs()
        status = api.data(f"contact/managemanycontacts/{job}")[0]
        assert (status["Status"], status["Count"], status["Error"]) == ("Completed", 0, "")
        assert status["ErrorFile"].endswith(f"/v3/DATA/batchjob/{job}/JSONError/application:json/LAST")
        batch = api.data(f"batchjob/{job}")[0]
        assert (batch["Status"], batch["Count"], batch["Errcount"]) == ("Completed", 0, 3)
        report = api.session.get(status["ErrorFile"]).json()
        assert report == {"JobID": job, "Errors": [{"Email": c["Email"], "Error": REFUSED} for c in contacts]}
        assert {lid: members(api, lid) for lid in (1001, 1003)} == lists_before
        assert contact_count(api) == total_before
        assert api.get("contact/refused1@example.com").status_code == 404
        assert api.get("contact/refused2@example.com").status_code == 404
        assert api.data(f"contact/{member['ID']}")[0] == member
        assert api.data(f"contactdata/{member['ID']}") == props_before
    finally:
        app.stop()


def test_refusals_keep_the_real_errors_and_leave_csv_imports_alone(api: Api) -> None:
    api.admin("PUT", "faults", {"spec": "job_refuse=100%"})
    job = api.post(
        "contactslist/1002/managemanycontacts",
        {"Action": "addforce", "Contacts": [{"Email": "not-an-address"}, {"Email": "fine@example.com"}]},
    ).json()["Data"][0]["JobID"]
    data_id = upload(api, 1004, "email,country\ncsvok1@example.com,NL\ncsvok2@example.com,BE\n")
    row = api.post("csvimport", {"ContactsListID": 1004, "DataID": data_id, "Method": "addforce"}).json()[
        "Data"
    ][0]
    api.finish_jobs()
    report = api.session.get(api.data(f"contactslist/1002/managemanycontacts/{job}")[0]["ErrorFile"]).json()
    assert report["Errors"] == [
        {"Email": "not-an-address", "Error": "Invalid email address"},
        {"Email": "fine@example.com", "Error": REFUSED},
    ]
    done = api.data(f"csvimport/{row['ID']}")[0]
    assert (done["Status"], done["Count"], done["Errcount"]) == ("Completed", 2, 0)
    assert {r["ListID"] for r in api.data("listrecipient", ContactEmail="csvok2@example.com")} == {1004}


def refused_by_fresh_sandbox(spec: str, emails: list[str], **config: Any) -> list[str]:
    """The addresses a fresh sandbox with these faults refuses in one bulk job of `emails`."""
    app = start(faults=spec, **config)
    api = Api(app)
    try:
        api.data("contact", Limit=50)  # unrelated traffic first: the draws do not depend on it
        job = api.post(
            "contactslist/1004/managemanycontacts",
            {"Action": "addforce", "Contacts": [{"Email": e} for e in emails]},
        ).json()["Data"][0]["JobID"]
        api.finish_jobs()
        url = api.data(f"contactslist/1004/managemanycontacts/{job}")[0]["ErrorFile"]
        return [str(r["Email"]) for r in api.session.get(url).json()["Errors"]] if url else []
    finally:
        app.stop()


def test_partly_refused_job_applies_the_rest_and_a_retry_converges() -> None:
    spec = "job_refuse_rate=0.5,seed=11"
    resource = "contactslist/1004/managemanycontacts"
    emails = [f"part{i}@example.com" for i in range(40)]
    app = start(faults=spec)
    api = Api(app)
    config = MailjetConfiguration(
        api_key=app.config.api_key, api_secret=app.config.api_secret, base_url=api.base, backoff_seconds=0.01
    )
    client = MailjetHttp.from_config(config)
    try:
        contacts = [{"Email": e, "Properties": {"country": "NL"}} for e in emails]
        job = client.start_job(resource, {"Action": "addforce", "Contacts": contacts})
        result = client.wait_for_job(resource, job, first_poll=0.05)
        assert (result.status, result.failed) == ("Completed", False)
        refused = [str(r["Email"]) for r in result.errors]
        assert result.errors == [{"Email": e, "Error": REFUSED} for e in refused]
        assert 0 < len(refused) < len(emails) and set(refused) <= set(emails)
        accepted = [e for e in emails if e not in refused]
        assert result.job["Count"] == len(accepted)
        assert api.data(f"batchjob/{job}")[0]["Errcount"] == len(refused)
        listed = members(api, 1004)
        for email in accepted:
            contact = api.data(f"contact/{email}")[0]
            assert listed.get(int(contact["ID"])) is False  # a subscribed member
            props = {d["Name"]: d["Value"] for d in api.data(f"contactdata/{contact['ID']}")[0]["Data"]}
            assert props["country"] == "NL"
        assert all(api.get(f"contact/{email}").status_code == 404 for email in refused)

        pending, rounds = refused, 0
        while pending and rounds < 10:  # each later job draws afresh: retrying the refused converges
            rounds += 1
            job = client.start_job(
                resource, {"Action": "addforce", "Contacts": [{"Email": e} for e in pending]}
            )
            again = client.wait_for_job(resource, job, first_poll=0.05)
            assert again.status == "Completed"
            still = [str(r["Email"]) for r in again.errors]
            assert set(still) <= set(pending) and again.job["Count"] == len(pending) - len(still)
            pending = still
        assert pending == [] and rounds >= 1
        listed = members(api, 1004)
        assert all(listed.get(int(api.data(f"contact/{e}")[0]["ID"])) is False for e in emails)
    finally:
        client.close()
        app.stop()
    # The same seed refuses the same contacts, whatever the job's duration or the traffic around it.
    assert refused_by_fresh_sandbox(spec, emails, job_seconds=0.01) == refused
    assert refused_by_fresh_sandbox("job_refuse_rate=0.5,seed=12", emails) != refused


def test_bulk_job_validation(api: Api) -> None:
    assert api.post("contactslist/1001/managemanycontacts", {"Action": "addforce"}).status_code == 400
    assert (
        api.post(
            "contactslist/1001/managemanycontacts", {"Action": "subscribe", "Contacts": [{"Email": "a@b.co"}]}
        ).status_code
        == 400
    )
    assert (
        api.post(
            "contactslist/1001/managemanycontacts", {"Action": "addforce", "Contacts": [{"Mail": "a@b.co"}]}
        ).status_code
        == 400
    )
    assert (
        api.post(
            "contactslist/999999/managemanycontacts",
            {"Action": "addforce", "Contacts": [{"Email": "a@b.co"}]},
        ).status_code
        == 404
    )
    assert api.get("contactslist/1001/managemanycontacts/123456789").status_code == 404


def test_csv_import_with_header(api: Api) -> None:
    data_id = upload(
        api,
        1004,
        '"email","country","orders"\n"csv1@example.com","NL",3\ncsv2@example.com,BE,\nbroken,FR,1\n',
    )
    created = api.post(
        "csvimport", {"ContactsListID": 1004, "DataID": data_id, "Method": "addnoforce", "ErrTreshold": 50}
    )
    assert created.status_code == 201
    row = created.json()["Data"][0]
    assert row["Status"] == "Upload" and row["DataID"] == data_id and row["ContactsListID"] == 1004
    api.finish_jobs()
    done = api.data(f"csvimport/{row['ID']}")[0]
    assert done["Status"] == "Completed" and done["Count"] == 2 and done["Errcount"] == 1
    props = {d["Name"]: d["Value"] for d in api.data("contactdata/csv1@example.com")[0]["Data"]}
    assert props["country"] == "NL" and props["orders"] == "3"
    lists = {r["ListID"] for r in api.data("listrecipient", ContactEmail="csv2@example.com")}
    assert lists == {1004}
    errors = api.session.get(f"{api.base}/v3/DATA/BatchJob/{row['ID']}/CSVError/text:csv")
    assert errors.status_code == 200 and errors.headers["Content-Type"].startswith("text/csv")
    lines = errors.text.strip().splitlines()
    assert lines[0] == "email,country,orders,error"
    assert lines[1].startswith("broken,FR,1,###Invalid email")


def test_csv_import_with_fieldnames_and_new_property(api: Api) -> None:
    data_id = upload(api, 1001, "fn1@example.com,gold\nfn2@example.com,silver\n")
    options = json.dumps({"FieldNames": ["email", "tier"]})
    row = api.post(
        "csvimport", {"ContactsList": 1001, "DataID": data_id, "Method": "unsub", "ImportOptions": options}
    ).json()["Data"][0]
    api.finish_jobs()
    assert api.data(f"csvimport/{row['ID']}")[0]["Status"] == "Completed"
    assert any(m["Name"] == "tier" for m in api.data("contactmetadata", Limit=100))
    rec = api.data("listrecipient", ContactEmail="fn2@example.com")[0]
    assert rec["IsUnsubscribed"] is True


def test_csv_import_over_error_threshold_fails(api: Api) -> None:
    data_id = upload(api, 1001, "email\nbad1\nbad2\nok@example.com\n")
    row = api.post("csvimport", {"ContactsListID": 1001, "DataID": data_id, "Method": "addforce"}).json()[
        "Data"
    ][0]
    api.finish_jobs()
    assert api.data(f"csvimport/{row['ID']}")[0]["Status"] == "Error"


def test_global_exclusion_import_takes_no_list(api: Api) -> None:
    data_id = upload(api, 1001, "email\nexcl@example.com\n")
    bad = api.post("csvimport", {"ContactsListID": 1001, "DataID": data_id, "Method": "excludemarketing"})
    assert bad.status_code == 400 and bad.json()["ErrorMessage"].startswith("MJ08")
    row = api.post("csvimport", {"DataID": data_id, "Method": "excludemarketing"}).json()["Data"][0]
    api.finish_jobs()
    assert api.data(f"csvimport/{row['ID']}")[0]["Status"] == "Completed"
    assert api.data("contact/excl@example.com")[0]["IsExcludedFromCampaigns"] is True


def test_refused_first_each_change_is_refused_by_its_first_job_and_taken_by_the_next() -> None:
    """`job_refuse_first=1`: every contact is refused by the first job that asks an action of it (in the
    report, not applied, the job `Completed`), taken by the next job asking the same, refused again by the
    first job asking another action."""
    app = start(contacts=10, messages=0, faults="job_refuse_first=1")
    api = Api(app)
    emails = [f"first{i}@example.com" for i in range(3)]

    def job(resource: str, body: dict[str, Any]) -> tuple[str, list[str]]:
        created = api.post(resource, body)
        assert created.status_code == 201, created.text
        api.finish_jobs()
        status = api.data(f"{resource}/{created.json()['Data'][0]['JobID']}")[0]
        report = api.session.get(status["ErrorFile"]).json()["Errors"] if status["ErrorFile"] else []
        assert all(r["Error"] == REFUSED for r in report)
        return str(status["Status"]), sorted(str(r["Email"]) for r in report)

    try:
        resource = "contactslist/1004/managemanycontacts"
        add = {"Action": "addnoforce", "Contacts": [{"Email": e} for e in emails]}
        assert job(resource, add) == ("Completed", emails)
        assert all(api.get(f"contact/{e}").status_code == 404 for e in emails)  # nothing applied
        assert job(resource, add) == ("Completed", [])
        listed = members(api, 1004)
        assert all(listed.get(int(api.data(f"contact/{e}")[0]["ID"])) is False for e in emails)
        unsub = {"Action": "unsub", "Contacts": [{"Email": e} for e in emails[:2]]}
        assert job(resource, unsub) == ("Completed", emails[:2])
        assert job(resource, unsub) == ("Completed", [])
        update = {"Contacts": [{"Email": emails[2], "Properties": {"country": "NL"}}]}
        assert job("contact/managemanycontacts", update) == ("Completed", [emails[2]])
        assert job("contact/managemanycontacts", update) == ("Completed", [])
        listed = members(api, 1004)
        ids = [int(api.data(f"contact/{e}")[0]["ID"]) for e in emails]
        assert [listed.get(i) for i in ids] == [True, True, False]
    finally:
        app.stop()
