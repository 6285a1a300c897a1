"""Seed data: deterministic for a seed and clock, realistic in its proportions, sized as asked."""

from __future__ import annotations

import orjson

from sandbox import SandboxApp, SandboxConfig
from sandbox.models import Contact, ListRecipient, Message, projector
from tests.conftest import FIXED_NOW, Api


def snapshot(app: SandboxApp) -> bytes:
    store = app.store
    return orjson.dumps(
        [
            [projector(Contact.FIELDS)(c) for c in store.contacts],
            [projector(ListRecipient.FIELDS)(r) for r in store.recipients],
            [projector(Message.FIELDS)(m) for m in store.messages],
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
