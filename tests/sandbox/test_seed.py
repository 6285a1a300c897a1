"""Seed data: deterministic for a seed and clock, realistic in its proportions, sized as asked."""

from __future__ import annotations

from typing import Any

import orjson

from sandbox import SandboxApp, SandboxConfig
from sandbox.models import (
    BounceStatistics,
    Campaign,
    CampaignDraft,
    ClickStatistics,
    Contact,
    ContactsList,
    ListRecipient,
    Message,
    OpenInformation,
    projector,
)
from sandbox.tables import Table
from tests.conftest import FIXED_NOW, Api


def snapshot(app: SandboxApp) -> bytes:
    store = app.store
    return orjson.dumps(
        [
            [projector(Contact.FIELDS)(c) for c in store.contacts],
            [projector(ListRecipient.FIELDS)(r) for r in store.recipients],
            [projector(Message.FIELDS)(m) for m in store.messages],
            [projector(OpenInformation.FIELDS)(o) for o in store.opens],
            [projector(ClickStatistics.FIELDS)(c) for c in store.clicks],
            [projector(BounceStatistics.FIELDS)(b) for b in store.bounces],
            [c.props for c in store.contacts],
        ]
    )


def test_same_seed_same_data_other_seed_other_data() -> None:
    def build(seed: int) -> bytes:
        return snapshot(SandboxApp(SandboxConfig(contacts=400, seed=seed, now=FIXED_NOW)))

    assert build(7) == build(7)
    assert build(7) != build(8)


def test_proportions(shared: Api) -> None:
    summary = shared.admin("GET", "summary").json()
    assert summary["contacts"] == 3000 and summary["listrecipients"] == 3000
    lists = summary["lists"]
    assert {"Newsletter", "Service messages"} <= set(lists)
    unsub = sum(v["unsubscribed"] for v in lists.values()) / summary["listrecipients"]
    assert 0.03 < unsub < 0.07
    contacts = list(shared.app.store.contacts)
    excluded = sum(c.IsExcludedFromCampaigns for c in contacts) / len(contacts)
    spam = sum(c.IsSpamComplaining for c in contacts) / len(contacts)
    assert 0.003 < excluded < 0.02 and 0.001 < spam < 0.012
    hard = [b for b in shared.app.store.bounces if b.IsStatePermanent]
    assert hard and summary["openinformation"] > summary["clickstatistics"] > 0


def test_sizes_are_configurable() -> None:
    app = SandboxApp(SandboxConfig(contacts=500, memberships=800, messages=50, now=FIXED_NOW))
    assert len(app.store.contacts) == 500
    assert abs(len(app.store.recipients) - 800) <= 5
    assert 0 < len(app.store.messages) <= 60
    empty = SandboxApp(SandboxConfig(contacts=0, now=FIXED_NOW))
    assert len(empty.store.contacts) == 0 and len(empty.store.lists) == 5


def test_no_seeded_timestamp_is_after_now() -> None:
    # Enough messages that some land in the last two days, where a clamped open used to be followed
    # by a click, unsubscribe or bounce after `now`.
    store = SandboxApp(SandboxConfig(contacts=2000, messages=50_000, now=FIXED_NOW, frozen_clock=True)).store
    tables: dict[str, tuple[Table[Any], tuple[str, ...]]] = {
        "contacts": (store.contacts, Contact.FIELDS),
        "lists": (store.lists, ContactsList.FIELDS),
        "listrecipients": (store.recipients, ListRecipient.FIELDS),
        "campaigns": (store.campaigns, Campaign.FIELDS),
        "drafts": (store.drafts, CampaignDraft.FIELDS),
        "messages": (store.messages, Message.FIELDS),
        "opens": (store.opens, OpenInformation.FIELDS),
        "clicks": (store.clicks, ClickStatistics.FIELDS),
        "bounces": (store.bounces, BounceStatistics.FIELDS),
    }
    latest = {}
    for name, (table, fields) in tables.items():
        stamps = [f for f in fields if f.endswith("At")]
        assert stamps, name
        values = [v for row in table for f in stamps if (v := getattr(row, f))]
        assert values, name
        latest[name] = max(values)
    assert all(value <= FIXED_NOW for value in latest.values()), latest
    assert len(store.clicks) > 1000 and len(store.bounces) > 500


def test_seeded_events_follow_their_message_and_open() -> None:
    store = SandboxApp(SandboxConfig(contacts=2000, messages=50_000, now=FIXED_NOW, frozen_clock=True)).store
    arrived = {m.ID: m.ArrivedAt for m in store.messages}
    opened: dict[int, str] = {}
    for o in store.opens:
        assert o.OpenedAt >= arrived[o.MessageID]
        opened[o.MessageID] = min(opened.get(o.MessageID, o.OpenedAt), o.OpenedAt)
    for c in store.clicks:
        assert c.ClickedAt >= opened[c.MessageID] >= arrived[c.MessageID]
    for b in store.bounces:
        assert b.BouncedAt >= arrived[b.MessageID]
