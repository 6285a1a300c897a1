"""The sandbox's property quirks (sandbox/quirks.py): definitions stored lower-cased and looked up with their
exact case by writes; no coercion of text to a property's datatype."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api


def job_errors(api: Api, contacts: list[dict[str, Any]]) -> dict[str, str]:
    """Run a contact job (no list) on `contacts`: the error of each contact it refused, by email."""
    created = api.post("contact/managemanycontacts", {"Contacts": contacts})
    assert created.status_code == 201, created.text
    job = created.json()["Data"][0]["JobID"]
    api.finish_jobs()
    status = api.data(f"contact/managemanycontacts/{job}")[0]
    if not status["ErrorFile"]:
        return {}
    report = api.session.get(str(status["ErrorFile"])).json()
    return {e["Email"]: str(e.get("Properties") or e["Error"]) for e in report["Errors"]}


def test_names_are_stored_lowercased_and_written_with_their_exact_case(api: Api) -> None:
    assert api.admin("PUT", "quirks", {"spec": "property-names-lowercased"}).status_code == 200
    made = api.post("contactmetadata", {"Name": "FavColour", "Datatype": "str"})
    assert made.status_code == 201 and made.json()["Data"][0]["Name"] == "favcolour"
    refused = job_errors(
        api,
        [
            {"Email": "exact@example.com", "Properties": {"favcolour": "red"}},
            {"Email": "cased@example.com", "Properties": {"FavColour": "red"}},
        ],
    )
    assert list(refused) == ["cased@example.com"] and "Property not defined" in refused["cased@example.com"]


def test_strict_types_take_no_text_for_a_typed_property(api: Api) -> None:
    assert api.admin("PUT", "quirks", {"spec": "strict-property-types"}).status_code == 200
    for name, datatype in (("n", "int"), ("ok", "bool"), ("at", "datetime")):
        assert api.post("contactmetadata", {"Name": name, "Datatype": datatype}).status_code == 201
    taken = [{"n": 42}, {"ok": True}, {"at": "2024-01-01T10:00:00Z"}, {"at": 1704103200}]
    refused = [{"n": "42"}, {"n": "42.0"}, {"n": 42.5}, {"ok": "true"}, {"at": "2024-01-01 10:00:00"}]
    contacts = [{"Email": f"p{i}@example.com", "Properties": p} for i, p in enumerate(taken + refused)]
    errors = job_errors(api, contacts)
    assert sorted(errors) == sorted(c["Email"] for c in contacts[len(taken) :])
    assert all("does not match definition" in why for why in errors.values())
