"""Quirk `listing-lag=SECONDS`: for SECONDS of the sandbox clock after a bulk job ends, the listings of
memberships show each membership the job touched as it was before the job (a snapshot taken when the job
starts applying, served until the lag has passed). Without the quirk every listing shows the state."""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sandbox.models import ContactsList, Job, ListRecipient
    from sandbox.store import Store

Key = tuple[int, int]  # (ContactID, ListID)
Shown = dict[Key, "ListRecipient | None"]  # a membership as a listing shows it; None: not a member


@dataclass
class Snapshot:
    """The memberships one job touched, as they were before it; served until `until` (sandbox clock)."""

    seq: int
    until: float
    before: Shown


class ListingLag:
    """The snapshots of the jobs that ended less than the lag ago."""

    def __init__(self) -> None:
        self.snapshots: list[Snapshot] = []
        self._seq = itertools.count(1)
        self._merged: tuple[tuple[int, ...], Shown, dict[int, int]] = ((), {}, {})

    def before_job(self, store: Store, job: Job) -> dict[tuple[str, int], ListRecipient | None] | None:
        """The memberships a bulk job may touch, by (email, ListID), as they are before it applies (None
        when the quirk is off)."""
        if "listing-lag" not in store.quirks or job.kind == "csv":
            return None
        list_ids = [job.list_id] if job.kind == "list" else [int(i["ListID"]) for i in job.ContactsLists]
        before: dict[tuple[str, int], ListRecipient | None] = {}
        for item in job.contacts:
            email = item.get("Email")
            if not isinstance(email, str):
                continue
            contact = store.contacts_by_email.get(email.lower())
            for list_id in list_ids:
                rec = store.recipient(contact.ID, list_id) if contact is not None else None
                before.setdefault((email.lower(), list_id), dataclasses.replace(rec) if rec else None)
        return before

    def after_job(self, store: Store, before: dict[tuple[str, int], ListRecipient | None]) -> None:
        """Keep a job's snapshot for the lag, keyed by contact ID now that the job made its contacts."""
        snapshot: Shown = {}
        for (email, list_id), rec in before.items():
            contact = store.contacts_by_email.get(email)
            if contact is not None:
                snapshot.setdefault((contact.ID, list_id), rec)
        until = store.clock.now() + store.quirks.lag_seconds
        self.snapshots.append(Snapshot(next(self._seq), until, snapshot))

    def shown(self, store: Store) -> tuple[tuple[int, ...], Shown, dict[int, int]]:
        """Now: a token that changes whenever the answer does (for the listing cache), the memberships
        shown as they were (the oldest pending snapshot of each wins), and the correction of each list's
        SubscriberCount that follows."""
        if "listing-lag" not in store.quirks or not self.snapshots:
            return (), {}, {}
        now = store.clock.now()
        self.snapshots = [s for s in self.snapshots if s.until > now]
        token = (*(s.seq for s in self.snapshots), -store.recipients.version)
        if token != self._merged[0]:
            shown: Shown = {}
            for snapshot in self.snapshots:
                for key, rec in snapshot.before.items():
                    shown.setdefault(key, rec)
            counts: dict[int, int] = {}
            for (contact_id, list_id), old in shown.items():
                delta = _subscribed(old) - _subscribed(store.recipient(contact_id, list_id))
                if delta:
                    counts[list_id] = counts.get(list_id, 0) + delta
            self._merged = (token, shown, counts)
        return self._merged


def _subscribed(rec: ListRecipient | None) -> int:
    return int(rec is not None and not rec.IsUnsubscribed)


def lagged(
    rows: list[ListRecipient], shown: Shown, contact_id: int | None = None, list_id: int | None = None
) -> list[ListRecipient]:
    """Memberships (a contact's, a list's, or all: `rows`, in `contact_id`/`list_id`'s scope) as the lag
    shows them, in ID order."""
    if not shown:
        return rows
    kept = [r for r in rows if (r.ContactID, r.ListID) not in shown]
    old = [
        r
        for (cid, lid), r in shown.items()
        if r is not None and contact_id in (None, cid) and list_id in (None, lid)
    ]
    return sorted(kept + old, key=attrgetter("ID"))


def lagged_recipient(rec: ListRecipient | None, recipient_id: int, shown: Shown) -> ListRecipient | None:
    """One membership by ID (`rec`: the stored row, if any) as the lag shows it."""
    if rec is not None and (rec.ContactID, rec.ListID) in shown:
        old = shown[(rec.ContactID, rec.ListID)]
        return old if old is not None and old.ID == rec.ID else None
    if rec is None:
        return next((r for r in shown.values() if r is not None and recipient_id == r.ID), None)
    return rec


def subscriber_count(row: ContactsList, counts: dict[int, int]) -> int:
    """A list's SubscriberCount as the lag shows it."""
    return row.SubscriberCount + counts.get(row.ID, 0)
