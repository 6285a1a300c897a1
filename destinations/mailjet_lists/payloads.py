"""What is sent to Mailjet for a batch: the bulk job's resource and body for (list, action, rows), the
batch's key in the job log, and the removals passed over. Pure: no I/O."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from destinations.mailjet_lists.outcomes import Action

CONTACT_JOBS = "contact/managemanycontacts"  # a job on contacts, not on a list's memberships
# The action Mailjet is sent for each planned action: an update is an add that keeps the subscription.
MAILJET_ACTIONS: dict[Action, str] = {
    "addnoforce": "addnoforce",
    "update": "addnoforce",
    "unsub": "unsub",
    "remove": "remove",
}
Row = Mapping[str, Any]


def batch_key(list_id: int, action: str, rows: Sequence[Row]) -> str:
    """Names a batch by its list, action and changes: the same rows resent give the same key."""
    digest = hashlib.sha256(f"{list_id}|{action}".encode())
    for item in sorted(f"{int(r['run_id'])}|{str(r['email']).lower()}" for r in rows):
        digest.update(b"\n" + item.encode())
    return digest.hexdigest()[:32]


def split_kept(
    action: Action, rows: Sequence[Row], kept: Mapping[str, str | None] | None
) -> tuple[list[Row], list[Row]]:
    """(rows to send, rows passed over): a remove passes over the members in `kept` (lowercase email ->
    when they unsubscribed: Mailjet shows them unsubscribed from the list, and removing them would erase
    it); other actions send every row."""
    if action != "remove" or not kept:
        return list(rows), []
    skipped = [r for r in rows if str(r["email"]).strip().lower() in kept]
    return [r for r in rows if r not in skipped], skipped


def job_request(list_id: int, action: Action, rows: Sequence[Row]) -> tuple[str, dict[str, Any]]:
    """(resource, body) of the bulk job for `rows`: the contacts, with their properties for an add or an
    update; an update is a job on the contacts alone (no list: it changes properties, never a
    membership), every other action one on the list's memberships."""
    contacts = []
    for row in rows:
        contact: dict[str, Any] = {"Email": row["email"]}
        if row.get("properties") and action in ("addnoforce", "update"):
            contact["Properties"] = json.loads(row["properties"])
        contacts.append(contact)
    if action == "update":
        return CONTACT_JOBS, {"Contacts": contacts}
    return f"contactslist/{list_id}/managemanycontacts", {
        "Action": MAILJET_ACTIONS[action],
        "Contacts": contacts,
    }
