"""Mailjet's own Python client (`mailjet-rest`, not written here) works against the sandbox unchanged."""

from __future__ import annotations

import time

import pytest
from mailjet_rest import Client
from mailjet_rest.errors import MailjetAuthError

from tests.conftest import Api


def client_for(api: Api, version: str = "v3") -> Client:
    return Client(
        auth=(api.app.config.api_key, api.app.config.api_secret), api_url=f"{api.base}/", version=version
    )


def test_reads_with_filters(api: Api) -> None:
    mj = client_for(api)
    lists = mj.contactslist.get(filters={"Limit": 10}).json()
    assert {row["Name"] for row in lists["Data"]} >= {"Newsletter", "Service messages"}
    members = mj.listrecipient.get(filters={"ContactsList": 1001, "Unsub": "true", "Limit": 5}).json()
    assert members["Count"] == 5 and all(r["IsUnsubscribed"] for r in members["Data"])
    email = api.data("contact", Limit=1)[0]["Email"]
    assert mj.contact.get(id=email).json()["Data"][0]["Email"] == email


def test_writes_and_bulk_job(api: Api) -> None:
    mj = client_for(api)
    created = mj.contact.create(data={"Email": "sdk@example.com", "Name": "SDK"})
    assert created.status_code == 201
    job = mj.contactslist_managemanycontacts.create(
        id=1002, data={"Action": "addnoforce", "Contacts": [{"Email": "sdk@example.com"}]}
    ).json()["Data"][0]["JobID"]
    deadline = time.monotonic() + 10
    status = ""
    while status != "Completed" and time.monotonic() < deadline:
        status = mj.contactslist_managemanycontacts.get(id=1002, action_id=job).json()["Data"][0]["Status"]
        time.sleep(0.05)
    assert status == "Completed"
    lists = mj.contact_getcontactslists.get(id="sdk@example.com").json()["Data"]
    assert [row["ListID"] for row in lists] == [1002]
    changed = mj.contact_managecontactslists.create(
        id="sdk@example.com", data={"ContactsLists": [{"ListID": 1002, "Action": "unsub"}]}
    )
    assert changed.status_code == 201
    assert mj.contact_getcontactslists.get(id="sdk@example.com").json()["Data"][0]["IsUnsub"] is True


def test_csv_upload_and_import(api: Api) -> None:
    mj = client_for(api)
    upload = mj.contactslist_csvdata.create(id=1003, data="email,country\nsdkcsv@example.com,IT\n")
    assert upload.status_code == 200
    data_id = upload.json()["ID"]
    started = mj.csvimport.create(data={"ContactsListID": 1003, "DataID": data_id, "Method": "addnoforce"})
    assert started.status_code == 201
    api.finish_jobs()
    done = mj.csvimport.get(id=started.json()["Data"][0]["ID"]).json()["Data"][0]
    assert done["Status"] == "Completed" and done["Count"] == 1


def test_send_v31(api: Api) -> None:
    mj = client_for(api, version="v3.1")
    result = mj.send.create(
        data={
            "Messages": [
                {
                    "From": {"Email": "shop@example.com"},
                    "To": [{"Email": "sdk.send@example.com"}],
                    "Subject": "Hi",
                    "TextPart": "Hello",
                }
            ]
        }
    )
    assert result.status_code == 200 and result.json()["Messages"][0]["Status"] == "success"


def test_wrong_credentials(api: Api) -> None:
    mj = Client(auth=("wrong", "creds"), api_url=f"{api.base}/")
    with pytest.raises(MailjetAuthError, match="API key authentication/authorization failure") as caught:
        mj.contact.get()
    assert caught.value.status_code == 401
