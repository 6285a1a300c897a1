"""Registered with `webhooks register`, the receiver gets the sandbox's events for a campaign, and the
next plan acts on them before any extract: an unsubscribe withdraws consent, a spam complaint and a hard
bounce keep people off the list."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.errors import CommandError
from pipelines.extract import extract
from pipelines.load import load
from pipelines.plan import plan
from pipelines.report import render
from pipelines.sync.config import SyncConfiguration
from pipelines.webhooks import register
from tests.conftest import Api, creds
from tests.webhooks.receiver import AUTH, rows, start_receiver


def test_events_reach_the_ledger_and_the_next_plan(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in creds(api).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MAILJET__WEBHOOKS__USERNAME", AUTH[0])
    monkeypatch.setenv("MAILJET__WEBHOOKS__PASSWORD", AUTH[1])
    db = tmp_path / "w.duckdb"
    extract(db=str(db))
    newsletter, service = (
        int(r[0])
        for r in rows(
            db,
            "select id from mailjet.contact_lists where name in "
            "('Newsletter', 'Service messages') order by name",
        )
    )
    members = rows(
        db,
        "select c.email, r.list_id from mailjet.list_recipients r join mailjet.contacts c on c.id = "
        "r.contact_id where not r.is_unsubscribed and not c.is_spam_complaining and not "
        "c.is_excluded_from_campaigns order by c.id",
    )
    in_news = [str(e) for e, lid in members if lid == newsletter]
    ever_in_news = {
        str(e)
        for (e,) in rows(
            db,
            "select c.email from mailjet.list_recipients r join mailjet.contacts c on c.id = r.contact_id "
            f"where r.list_id = {newsletter}",
        )
    }
    in_service = sorted({str(e) for e, lid in members if lid == service} - ever_in_news)
    withdrawing, complaining, bouncing = in_news[0], in_service[0], in_service[1]
    people = [withdrawing, complaining, bouncing]
    (tmp_path / "consent.csv").write_text(
        "email,permission,granted,at,source\n"
        + "".join(f"{e},email_newsletter,yes,2026-01-01T00:00:00Z,crm\n" for e in people),
        encoding="utf-8",
    )
    (tmp_path / "profiles.csv").write_text(
        "email,firstname,country\n" + "".join(f"{e},P,FR\n" for e in people), encoding="utf-8"
    )
    load(db=str(db), file=str(tmp_path / "consent.csv"), table="consent_events")
    load(db=str(db), file=str(tmp_path / "profiles.csv"), table="profiles")

    running = start_receiver(db)
    first = register(running.server.url, version=2)
    assert {r.action for r in first.registrations} == {"created"} and len(first.registrations) == 7
    assert AUTH[1] not in render(first) and "***" in render(first)
    again = register(running.server.url, version=2)
    assert {r.action for r in again.registrations} == {"unchanged"}

    # A campaign to each list, then the three people act on it.
    for name in ("Newsletter", "Service messages"):
        assert api.admin("POST", "campaigns", {"list": name}).status_code in (200, 201)
    for kind, email, extra in (
        ("open", withdrawing, {}),
        ("click", withdrawing, {"url": "https://shop.example.com/sale"}),
        ("unsub", withdrawing, {}),
        ("spam", complaining, {}),
        ("bounce", bouncing, {"hard": True}),
    ):
        reply = api.admin("POST", "events", {"event": kind, "email": email, **extra})
        assert reply.status_code == 200, reply.text
    assert api.admin("POST", "webhooks/flush").status_code == 200
    delivered = api.admin("GET", "webhooks").json()
    assert delivered and all(d["status"] == 200 for d in delivered.get("deliveries", delivered)), delivered
    running.stopped()

    got = rows(db, "select event, email, mj_list_id from mailjet.events where event <> 'sent' order by event")
    assert got == [
        ("bounce", bouncing, None),
        ("click", withdrawing, None),
        ("open", withdrawing, None),
        ("spam", complaining, None),
        ("unsub", withdrawing, newsletter),
    ]
    assert rows(db, "select url from mailjet.events where event = 'click'") == [
        ("https://shop.example.com/sale",)
    ]
    assert rows(db, "select count(*) from mailjet.events where event = 'sent'")[0][0] > 0
    # No extract since: what the plan knows of these three, it knows from the events.
    plan(db=str(db), audience="newsletter", config=SyncConfiguration())
    planned = dict(
        rows(
            db,
            "select email, action || ':' || reason from mailjet_sync.sync_plan where run_id = "
            "(select max(run_id) from mailjet_sync.sync_runs)",
        )
    )
    assert planned.get(withdrawing) == "unsub:consent_withdrawn"
    held = dict(
        rows(
            db,
            "select email, reason from mailjet_sync.sync_rejections where stage = 'plan' and run_id = "
            "(select max(run_id) from mailjet_sync.sync_runs)",
        )
    )
    assert held.get(complaining) == "spam_complaint"
    assert held.get(bouncing) == "hard_bounce"
    assert complaining not in planned and bouncing not in planned


def test_register_needs_credentials_and_an_http_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAILJET__WEBHOOKS__USERNAME", raising=False)
    monkeypatch.delenv("MAILJET__WEBHOOKS__PASSWORD", raising=False)
    with pytest.raises(CommandError, match="MAILJET__WEBHOOKS__USERNAME") as caught:
        register("https://hooks.example.com/events")
    assert caught.value.exit_code == 2
    with pytest.raises(CommandError, match="is not an http") as caught:
        register("ftp://u:supersecret@hooks.example.com/events")
    assert "supersecret" not in str(caught.value)
    with pytest.raises(CommandError, match="no event type nope"):
        register("https://u:p@hooks.example.com/events", ["nope"])
