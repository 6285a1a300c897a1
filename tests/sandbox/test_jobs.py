"""Async jobs: status progression, injected failures with error reports, CSV imports."""

from __future__ import annotations

import json
import time

from tests.conftest import Api, start


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
