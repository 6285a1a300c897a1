"""Contacts, property definitions and property values."""

from __future__ import annotations

from tests.conftest import Api


def test_create_read_update_contact(api: Api) -> None:
    created = api.post("contact", {"Email": "Jane.Doe@Example.com", "Name": "Jane"})
    assert created.status_code == 201
    row = created.json()["Data"][0]
    assert row["Email"] == "Jane.Doe@Example.com" and row["Name"] == "Jane" and row["DeliveredCount"] == 0
    by_email = api.data("contact/jane.doe@example.com")[0]
    assert by_email["ID"] == row["ID"]
    updated = api.put(f"contact/{row['ID']}", {"Name": "Jane D.", "IsExcludedFromCampaigns": True})
    assert updated.status_code == 200
    after = updated.json()["Data"][0]
    assert after["Name"] == "Jane D." and after["IsExcludedFromCampaigns"] is True
    assert after["ExclusionFromCampaignsUpdatedAt"] != ""


def test_put_that_changes_nothing_is_304(api: Api) -> None:
    row = api.data("contact", Limit=1)[0]
    response = api.put(f"contact/{row['ID']}", {"Name": row["Name"]})
    assert response.status_code == 304 and response.content == b""


def test_duplicate_email_is_mj18(api: Api) -> None:
    email = api.data("contact", Limit=1)[0]["Email"]
    response = api.post("contact", {"Email": str(email).upper()})
    assert response.status_code == 400
    assert response.json()["ErrorMessage"].startswith("MJ18 A Contact resource with value")


def test_unknown_property_and_wrong_type_are_400(api: Api) -> None:
    unknown = api.post("contact", {"Email": "a@example.com", "Contacts": []})
    assert unknown.status_code == 400
    assert (
        unknown.json()["ErrorMessage"]
        == 'Invalid json input: object ""->"TContact" has no property "Contacts"'
    )
    wrong = api.post("contact", {"Email": "b@example.com", "IsExcludedFromCampaigns": "maybe"})
    assert wrong.status_code == 400
    missing = api.post("contact", {"Name": "nobody"})
    assert missing.status_code == 400 and "Email" in missing.json()["ErrorMessage"]
    invalid = api.post("contact", {"Email": "not-an-email"})
    assert invalid.status_code == 400


def test_unknown_contact_is_404(api: Api) -> None:
    for key in ("999999", "nobody@example.com"):
        response = api.get(f"contact/{key}")
        assert response.status_code == 404
        assert response.json() == {"ErrorInfo": "", "ErrorMessage": "Object not found", "StatusCode": 404}


def test_contactdata_reads_and_validates_properties(api: Api) -> None:
    row = api.data("contactdata/1")[0]
    names = {d["Name"] for d in row["Data"]}
    assert {"firstname", "lastname", "country", "orders"} <= names
    assert all(isinstance(d["Value"], str) for d in row["Data"])
    ok = api.put(
        "contactdata/1", {"Data": [{"Name": "orders", "Value": 7}, {"name": "country", "value": "PT"}]}
    )
    assert ok.status_code == 200
    values = {d["Name"]: d["Value"] for d in ok.json()["Data"][0]["Data"]}
    assert values["orders"] == "7" and values["country"] == "PT"
    bad_key = api.put("contactdata/1", {"Data": [{"Name": "foo", "Value": 1}]})
    assert bad_key.json() == {"ErrorInfo": "", "ErrorMessage": 'Invalid key name: "foo"', "StatusCode": 400}
    bad_type = api.put("contactdata/1", {"Data": [{"Name": "orders", "Value": "many"}]})
    assert bad_type.status_code == 400
    cleared = api.put("contactdata/1", {"Data": [{"Name": "country", "Value": None}]})
    assert "country" not in {d["Name"] for d in cleared.json()["Data"][0]["Data"]}


def test_contactmetadata_crud(api: Api) -> None:
    created = api.post("contactmetadata", {"Name": "birthday", "Datatype": "datetime", "NameSpace": "static"})
    assert created.status_code == 201
    meta = created.json()["Data"][0]
    assert meta["Datatype"] == "datetime" and isinstance(meta["ID"], int)
    dup = api.post("contactmetadata", {"Name": "Birthday", "Datatype": "str"})
    assert dup.status_code == 400 and "MJ18" in dup.json()["ErrorMessage"]
    bad = api.post("contactmetadata", {"Name": "x", "Datatype": "date"})
    assert bad.status_code == 400
    stored = api.put("contactdata/2", {"Data": [{"Name": "birthday", "Value": "1990-05-17T00:00:00Z"}]})
    assert {"Name": "birthday", "Value": "1990-05-17T00:00:00Z"} in stored.json()["Data"][0]["Data"]
    assert api.delete(f"contactmetadata/{meta['ID']}").status_code == 204
    assert "birthday" not in {d["Name"] for d in api.data("contactdata/2")[0]["Data"]}
    assert api.get(f"contactmetadata/{meta['ID']}").status_code == 404


def test_gdpr_delete_anonymises(api: Api) -> None:
    row = api.data("contact", ContactsList=1001, Limit=1)[0]
    response = api.session.delete(f"{api.base}/v4/contacts/{row['ID']}")
    assert response.status_code == 200
    after = api.data(f"contact/{row['ID']}")[0]
    assert after["Name"] == "Anonymized" and str(after["Email"]).endswith("@domain.invalid")
    assert api.data("listrecipient", Contact=row["ID"]) == []
    assert api.session.delete(f"{api.base}/v4/contacts/99999999").status_code == 404


def test_purge_removes_gdpr_deleted_contacts_for_good(api: Api) -> None:
    keep, gone = api.data("contact", Limit=2)
    assert api.session.delete(f"{api.base}/v4/contacts/{gone['ID']}", timeout=30).status_code == 200
    assert api.admin("POST", "contacts/purge").json() == {"purged": 1}
    assert api.get(f"contact/{gone['ID']}").status_code == 404
    assert api.get(f"contact/{keep['ID']}").status_code == 200
    assert api.get("contact", countOnly=1).json()["Total"] == 299
