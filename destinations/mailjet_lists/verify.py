"""Verification: what the list read back after a job shows of each change, and the changes a completed job
left unshown (mismatches). Pure: the reads are in `mailjet.py`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Mismatch = dict[str, str]  # email, action, found
# The error of a change whose job completed, the report silent, that the list never showed while it was
# read again: it ends with what the list showed instead (`found`).
NOT_SHOWN = "the job completed, but the list read back does not show the change; found: "


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


def found(state: Mapping[str, bool], email: str) -> str:
    """What the list's `state` shows of `email`: not a member, unsubscribed or subscribed."""
    return "not a member" if email not in state else "unsubscribed" if state[email] else "subscribed"


def not_shown(state: Mapping[str, bool], email: str) -> str:
    """The error of a change its completed job did not make (see NOT_SHOWN)."""
    return NOT_SHOWN + found(state, email)


def mismatches(state: Mapping[str, bool], changes: Sequence[tuple[str, str]]) -> list[Mismatch]:
    """The (email, action) changes the list's `state` does not show: an add that is not a member, an
    unsubscribe still subscribed, a removal still a member; updates are not checked."""
    return [
        {"email": email, "action": action, "found": found(state, email)}
        for email, action in touched(changes)
        if not shows(state, email, action)
    ]


def recorded_mismatches(failed: Iterable[tuple[str, str, str | None]]) -> list[Mismatch]:
    """The mismatches among a run's failed changes (email, action, error), as the changelog records them:
    those whose completed job the list read back did not show (NOT_SHOWN)."""
    return [
        {"email": email, "action": action, "found": error.removeprefix(NOT_SHOWN)}
        for email, action, error in failed
        if error and error.startswith(NOT_SHOWN)
    ]
