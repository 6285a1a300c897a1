"""Verification: the confirmed changes a list read again does not show. Pure: the reads are in
`mailjet.py`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Mismatch = dict[str, str]  # email, action, found


def touched(changes: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The changes a list's memberships show (an update changes properties only)."""
    return [(e, a) for e, a in changes if a != "update"]


def list_state(
    contacts: Iterable[Mapping[str, Any]], recipients: Iterable[Mapping[str, Any]]
) -> dict[str, bool]:
    """email (lowercase) -> is unsubscribed, for each member of a list, from its contacts (`ID`, `Email`)
    and its `listrecipient` rows (`ContactID`, `IsUnsubscribed`)."""
    emails = {int(c["ID"]): str(c["Email"]).lower() for c in contacts}
    return {emails.get(int(r["ContactID"]), ""): bool(r.get("IsUnsubscribed")) for r in recipients}


def shows(state: Mapping[str, bool], email: str, action: str) -> bool:
    """Whether the list's `state` shows the change: an add as a member (in any state), an unsubscribe as
    unsubscribed, a removal as no member; never an update (properties are not in the state)."""
    member = email in state
    return (
        (action == "addnoforce" and member)
        or (action == "unsub" and member and state[email])
        or (action == "remove" and not member)
    )


def mismatches(state: Mapping[str, bool], changes: Sequence[tuple[str, str]]) -> list[Mismatch]:
    """The confirmed (email, action) changes the list's `state` does not show: an add that is not a
    member, an unsubscribe still subscribed, a removal still a member; updates are not checked."""
    wrong = []
    for email, action in touched(changes):
        member, unsubscribed = email in state, state.get(email)
        found = "not a member" if not member else "unsubscribed" if unsubscribed else "subscribed"
        if not shows(state, email, action):
            wrong.append({"email": email, "action": action, "found": found})
    return wrong
