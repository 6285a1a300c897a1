"""The bulk job sent for a batch, the batch's key, and the removals passed over, with plain data."""

from __future__ import annotations

import json
from typing import Any

import pytest

from destinations.mailjet_lists.payloads import CONTACT_JOBS, batch_key, job_request, split_kept

pytestmark = pytest.mark.unit


def row(email: str, run_id: int = 7, contact_id: int | None = None, **props: str) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "audience": "vip",
        "list_id": 10,
        "email": email,
        "contact_id": contact_id,
        "reason": "joined_audience",
        "properties": json.dumps(props) if props else None,
    }


def test_the_same_rows_in_any_order_and_case_give_the_same_key() -> None:
    rows = [row("ann@x.com"), row("bob@x.com"), row("cat@x.com")]
    key = batch_key(10, "addnoforce", rows)
    assert batch_key(10, "addnoforce", list(reversed(rows))) == key
    assert batch_key(10, "addnoforce", [row("ANN@x.com"), rows[2], rows[1]]) == key
    assert len(key) == 32


@pytest.mark.parametrize(
    ("list_id", "action", "rows"),
    [
        pytest.param(10, "addnoforce", [row("ann@x.com", run_id=8), row("bob@x.com")], id="another-run"),
        pytest.param(11, "addnoforce", [row("ann@x.com"), row("bob@x.com")], id="another-list"),
        pytest.param(10, "unsub", [row("ann@x.com"), row("bob@x.com")], id="another-action"),
        pytest.param(10, "addnoforce", [row("ann@x.com")], id="fewer-rows"),
    ],
)
def test_another_run_list_action_or_rows_give_another_key(
    list_id: int, action: str, rows: list[dict[str, Any]]
) -> None:
    assert batch_key(list_id, action, rows) != batch_key(
        10, "addnoforce", [row("ann@x.com"), row("bob@x.com")]
    )


def test_an_add_sends_the_contacts_with_their_properties_to_the_list() -> None:
    rows = [row("ann@x.com", firstname="Ann", country="FR"), row("bob@x.com")]
    assert job_request(10, "addnoforce", rows) == (
        "contactslist/10/managemanycontacts",
        {
            "Action": "addnoforce",
            "Contacts": [
                {"Email": "ann@x.com", "Properties": {"firstname": "Ann", "country": "FR"}},
                {"Email": "bob@x.com"},
            ],
        },
    )


def test_an_update_is_a_contact_job_without_lists_that_never_forces_a_subscription() -> None:
    resource, body = job_request(10, "update", [row("ann@x.com", country="DE")])
    assert resource == CONTACT_JOBS == "contact/managemanycontacts"
    assert body == {"Contacts": [{"Email": "ann@x.com", "Properties": {"country": "DE"}}]}
    assert "ContactsLists" not in body and "Action" not in body


@pytest.mark.parametrize("action", ["unsub", "remove"])
def test_unsubscribes_and_removals_send_no_properties(action: str) -> None:
    resource, body = job_request(10, action, [row("ann@x.com", country="DE")])  # type: ignore[arg-type]
    assert resource == "contactslist/10/managemanycontacts"
    assert body == {"Action": action, "Contacts": [{"Email": "ann@x.com"}]}


def test_rows_without_the_optional_columns_are_sent() -> None:
    bare = {"run_id": 1, "audience": "vip", "list_id": 10, "email": "ann@x.com", "reason": "joined_audience"}
    assert job_request(10, "addnoforce", [bare])[1] == {
        "Action": "addnoforce",
        "Contacts": [{"Email": "ann@x.com"}],
    }
    assert split_kept("remove", [bare], {"bob@x.com": None}) == ([bare], [])
    assert split_kept("remove", [bare], {"ann@x.com": None}) == ([], [bare])  # matched by address


def test_a_removal_passes_over_the_members_unsubscribed_since_the_plan() -> None:
    ann, bob, cat = row("ann@x.com", contact_id=1), row(" Bob@X.com\t", contact_id=2), row("cat@x.com")
    kept = {"bob@x.com": "2026-06-01T10:00:00Z", "zed@x.com": None}
    assert split_kept("remove", [ann, bob, cat], kept) == ([ann, cat], [bob])
    assert split_kept("remove", [ann, bob], {}) == ([ann, bob], [])
    assert split_kept("remove", [ann, bob], None) == ([ann, bob], [])


@pytest.mark.parametrize("action", ["addnoforce", "unsub", "update"])
def test_other_actions_send_every_row_whatever_is_kept(action: str) -> None:
    rows = [row("ann@x.com", contact_id=1), row("bob@x.com", contact_id=2)]
    kept: dict[str, str | None] = {"ann@x.com": None, "bob@x.com": None}
    assert split_kept(action, rows, kept) == (rows, [])  # type: ignore[arg-type]
