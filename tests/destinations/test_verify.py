"""Verification as a comparison: the list's state against the changes Mailjet confirmed, with plain data."""

from __future__ import annotations

import pytest

from destinations.mailjet_lists.verify import list_state, mismatches, touched

pytestmark = pytest.mark.unit

STATE = {"sub@x.com": False, "unsub@x.com": True, "sub2@x.com": False, "unsub2@x.com": True}


def test_changes_the_list_shows_are_no_mismatch() -> None:
    shown = [
        ("sub@x.com", "addnoforce"),
        ("unsub@x.com", "addnoforce"),  # an add never re-subscribes: a member is what it shows
        ("unsub@x.com", "unsub"),
        ("gone@x.com", "remove"),
        ("gone2@x.com", "update"),
    ]
    assert mismatches(STATE, shown) == []


def test_every_kind_of_change_the_list_does_not_show_is_a_mismatch() -> None:
    not_shown = [
        ("out@x.com", "addnoforce"),
        ("sub@x.com", "unsub"),
        ("sub2@x.com", "remove"),
        ("unsub2@x.com", "remove"),
        ("out@x.com", "unsub"),
        ("sub@x.com", "update"),  # updates change properties only: never checked
    ]
    assert mismatches(STATE, not_shown) == [
        {"email": "out@x.com", "action": "addnoforce", "found": "not a member"},
        {"email": "sub@x.com", "action": "unsub", "found": "subscribed"},
        {"email": "sub2@x.com", "action": "remove", "found": "subscribed"},
        {"email": "unsub2@x.com", "action": "remove", "found": "unsubscribed"},
        {"email": "out@x.com", "action": "unsub", "found": "not a member"},
    ]


def test_only_membership_changes_need_the_list_read() -> None:
    assert touched([("a@x.com", "update"), ("b@x.com", "update")]) == []
    assert touched([("a@x.com", "update"), ("b@x.com", "remove")]) == [("b@x.com", "remove")]


def test_the_state_names_members_by_lowercase_email() -> None:
    contacts = [
        {"ID": 1, "Email": "Ann@X.com"},
        {"ID": 2, "Email": "bob@x.com"},
        {"ID": 3, "Email": "c@x.com"},
    ]
    recipients = [
        {"ContactID": 1, "IsUnsubscribed": False},
        {"ContactID": 2, "IsUnsubscribed": True},
        {"ContactID": 4},
    ]
    assert list_state(contacts, recipients) == {"ann@x.com": False, "bob@x.com": True, "": False}
