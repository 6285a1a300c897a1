"""Contact lists CRUD and campaign drafts sent through the API."""

from __future__ import annotations

from tests.conftest import Api


def test_contactslist_crud(api: Api) -> None:
    created = api.post("contactslist", {"Name": "Partners"})
    assert created.status_code == 201
    row = created.json()["Data"][0]
    assert row["SubscriberCount"] == 0 and row["IsDeleted"] is False and row["Address"]
    assert api.post("contactslist", {"Name": "partners"}).json()["ErrorMessage"].startswith("MJ18")
    api.post(
        f"contactslist/{row['ID']}/managecontact", {"Email": "partner@example.com", "Action": "addforce"}
    )
    renamed = api.put(f"contactslist/{row['ID']}", {"Name": "Key partners"})
    assert renamed.status_code == 200 and renamed.json()["Data"][0]["SubscriberCount"] == 1
    assert api.data("listrecipient", ContactsList=row["ID"])[0]["ListName"] == "Key partners"
    assert api.put(f"contactslist/{row['ID']}", {"Name": "Key partners"}).status_code == 304
    assert api.data("contactslist", Name="Key partners")[0]["ID"] == row["ID"]
    assert api.delete(f"contactslist/{row['ID']}").status_code == 204
    assert api.data(f"contactslist/{row['ID']}")[0]["IsDeleted"] is True
    assert row["ID"] not in {r["ID"] for r in api.data("contactslist", IsDeleted="false", Limit=100)}


def test_draft_detailcontent_and_send(api: Api) -> None:
    draft = api.post(
        "campaigndraft",
        {
            "Locale": "en_US",
            "Sender": "Shop",
            "SenderEmail": "news@shop.example.com",
            "Subject": "Big news",
            "ContactsListID": 1004,
            "Title": "Big news",
        },
    )
    assert draft.status_code == 201
    draft_id = draft.json()["Data"][0]["ID"]
    refused = api.post(f"campaigndraft/{draft_id}/send", {})
    assert refused.status_code == 400 and "HTML or text" in refused.json()["ErrorMessage"]
    content = api.post(
        f"campaigndraft/{draft_id}/detailcontent", {"Html-part": "<p>Hi</p>", "Text-part": "Hi"}
    )
    assert content.status_code == 201
    assert api.data(f"campaigndraft/{draft_id}/detailcontent")[0]["Text-part"] == "Hi"
    assert api.post(f"campaigndraft/{draft_id}/send", {}).status_code == 201
    sent = api.data(f"campaigndraft/{draft_id}")[0]
    assert sent["Status"] == 2 and sent["CampaignID"] > 0
    assert api.data(f"campaigndraft/{draft_id}/status")[0]["Status"] == "Sent"
    campaign = api.data(f"campaign/{sent['CampaignID']}")[0]
    assert campaign["ListID"] == 1004 and campaign["Subject"] == "Big news"
    assert api.data(f"campaign/mj.nl={draft_id}")[0]["ID"] == campaign["ID"]
    store = api.app.store
    expected = {
        r.ContactID
        for r in store.recipients_by_list[1004].values()
        if not r.IsUnsubscribed and not store.contacts.rows[r.ContactID].IsExcludedFromCampaigns
    }
    messages = api.data("message", Campaign=campaign["ID"], Limit=0)
    assert {m["ContactID"] for m in messages} == expected
    missing = api.post("campaigndraft", {"Locale": "en_US", "Subject": "x"})
    assert missing.status_code == 400 and "Sender" in missing.json()["ErrorMessage"]
