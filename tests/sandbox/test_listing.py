"""The v3 envelope and listing mechanics: Limit, Offset, Sort, countOnly, filters, path decoding."""

from __future__ import annotations

import pytest

from tests.conftest import Api


def test_envelope_counts_are_page_sizes(shared: Api) -> None:
    body = shared.get("contact", Limit=25).json()
    assert set(body) == {"Count", "Data", "Total"}
    assert body["Count"] == body["Total"] == len(body["Data"]) == 25


def test_default_limit_is_ten_and_order_is_id(shared: Api) -> None:
    rows = shared.data("contact")
    assert len(rows) == 10
    assert [r["ID"] for r in rows] == sorted(r["ID"] for r in rows)


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        pytest.param(0, 1000, id="zero-means-max"),
        pytest.param(1000, 1000, id="max"),
        pytest.param(5000, 1000, id="capped"),
        pytest.param(1, 1, id="one"),
    ],
)
def test_limit(shared: Api, limit: int, expected: int) -> None:
    assert len(shared.data("contact", Limit=limit)) == expected


def test_count_only_gives_the_total(shared: Api) -> None:
    body = shared.get("contact", countOnly=1).json()
    assert body == {"Count": 3000, "Data": [], "Total": 3000}
    body = shared.get("contact", countonly="true", ContactsList=1001).json()
    members = shared.app.store.recipients_by_list[1001]
    assert body["Total"] == len(members)


def test_offset_pages_cover_everything_once(shared: Api) -> None:
    seen: list[int] = []
    offset = 0
    while True:
        page = shared.data("contact", Limit=1000, Offset=offset)
        seen += [r["ID"] for r in page]
        if len(page) < 1000:
            break
        offset += 1000
    assert seen == sorted(set(seen)) and len(seen) == 3000
    assert shared.data("contact", Limit=10, Offset=10**12) == []


def test_sort_ascending_and_descending(shared: Api) -> None:
    asc = shared.data("contact", Limit=50, Sort="Email")
    assert [r["Email"] for r in asc] == sorted(c.Email for c in shared.app.store.contacts)[:50]
    desc = shared.data("contact", Limit=5, Sort="ID DESC")
    assert [r["ID"] for r in desc] == [3000, 2999, 2998, 2997, 2996]
    plus = shared.session.get(f"{shared.base}/v3/REST/contact?Limit=5&Sort=ID+DESC").json()["Data"]
    assert plus == desc


def test_sort_on_unknown_field_is_a_400(shared: Api) -> None:
    response = shared.get("contact", Sort="Nope")
    assert response.status_code == 400
    assert response.json()["StatusCode"] == 400 and "Nope" in response.json()["ErrorMessage"]


def test_names_are_case_insensitive_and_first_occurrence_wins(shared: Api) -> None:
    a = shared.session.get(f"{shared.base}/v3/rest/CONTACTSLIST?LIMIT=2&limit=4").json()
    assert a["Count"] == 2
    b = shared.session.get(f"{shared.base}/v3/REST/ListRecipient?contactslist=1002&ContactsList=1001&limit=5")
    assert {r["ListID"] for r in b.json()["Data"]} == {1002}


def test_unknown_filters_are_ignored(shared: Api) -> None:
    assert shared.data("contact", Limit=3, NoSuchFilter="x") == shared.data("contact", Limit=3)


def test_percent_encoded_email_addresses_a_contact(shared: Api) -> None:
    first = shared.data("contact", Limit=1)[0]
    user, domain = str(first["Email"]).split("@")
    encoded = user.replace(".", "%2E") + "%40" + domain.replace(".", "%2E")
    response = shared.session.get(f"{shared.base}/v3/REST/contact/{encoded}")
    assert response.status_code == 200
    assert response.json()["Data"][0]["ID"] == first["ID"]


def test_types_are_json_types(shared: Api) -> None:
    contact = shared.data("contact", Limit=1)[0]
    assert isinstance(contact["ID"], int) and isinstance(contact["IsExcludedFromCampaigns"], bool)
    assert contact["UnsubscribedAt"] == ""
    assert len(str(contact["CreatedAt"])) == 20 and str(contact["CreatedAt"]).endswith("Z")
    message = shared.data("message", FromTS=1, Limit=1)[0]
    assert isinstance(message["ID"], int) and message["ID"] > 2**53


def test_filters(shared: Api) -> None:
    members = shared.data("listrecipient", ContactsList=1003, Limit=0)
    assert members and all(r["ListID"] == 1003 for r in members)
    unsub = shared.data("listrecipient", ContactsList=1003, Unsub="true", Limit=0)
    assert unsub and all(r["IsUnsubscribed"] for r in unsub)
    assert {r["ID"] for r in unsub} == {r["ID"] for r in members if r["IsUnsubscribed"]}
    by_name = shared.data("listrecipient", ListName="Product updates", Limit=0)
    assert {r["ID"] for r in by_name} == {r["ID"] for r in members}
    contacts = shared.data("contact", ContactsList=1003, Limit=0)
    assert {c["ID"] for c in contacts} == {r["ContactID"] for r in members}
    excluded = shared.data("contact", IsExcludedFromCampaigns="true", Limit=0)
    assert excluded and all(c["IsExcludedFromCampaigns"] for c in excluded)


def test_bad_filter_value_is_a_400(shared: Api) -> None:
    response = shared.get("listrecipient", ContactsList="abc")
    assert response.status_code == 400
    assert "ContactsList" in response.json()["ErrorMessage"]


def test_request_log_keeps_paths_and_query_parameters(api: Api) -> None:
    api.admin("DELETE", "requests")
    api.get("message", FromTS=5, Sort="ArrivedAt DESC")
    api.admin("GET", "summary")
    logged = api.admin("GET", "requests/log").json()["requests"]
    assert logged == [
        {"method": "GET", "path": "/v3/REST/message", "params": {"fromts": "5", "sort": "ArrivedAt DESC"}}
    ]


def test_statcounters_sort_on_source_id(shared: Api) -> None:
    ids = [
        row["SourceID"]
        for row in shared.data(
            "statcounters",
            CounterSource="Campaign",
            CounterTiming="Message",
            CounterResolution="Lifetime",
            Sort="SourceID DESC",
            Limit=20,
        )
    ]
    assert ids == sorted(ids, reverse=True) and len(ids) == 20
