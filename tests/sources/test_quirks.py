"""The extract under other readings of Mailjet's API (sandbox quirks, sandbox/quirks.py): whichever
reading holds, every table comes out complete and exact, without the extract being told which."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from pipelines.extract import extract
from sandbox.quirks import KNOWN, READ_QUIRKS
from tests.conftest import Api, start
from tests.sources.conftest import campaign_stats, every_row, point_at, query, send_sms

# Each read quirk alone, and all at once (the write quirks included: they must not disturb the extract).
READINGS = [*READ_QUIRKS, "all"]
Truth = dict[str, Counter[tuple[Any, ...]]]


SMS_SENT = 250  # more pages of the test's page size (50) than lanes (4): a lane reads several capped pages


def ground_truth(api: Api) -> Truth:
    """What the sandbox holds, read the plain way with no quirk on (keys that do not need the API's IDs
    where a reading may change them)."""
    history = {"FromTS": 1}
    sms = requests.get(
        f"{api.base}/v4/sms",
        params={"FromTS": 1, "Limit": 1000},
        headers={"Authorization": f"Bearer {api.app.config.sms_token}"},
        timeout=30,
    ).json()["Data"]
    messages = every_row(api, "message", **history)
    return {
        "messages": Counter((m["ID"], m["ContactID"], m["Status"]) for m in messages),
        "message_ids": Counter((m["ID"], m["ContactID"]) for m in messages),
        "campaigns": Counter(
            (c["ID"], c["Subject"], c["Status"]) for c in every_row(api, "campaign", **history)
        ),
        "drafts": Counter((d["ID"], d["Title"]) for d in every_row(api, "campaigndraft")),
        "clicks": Counter(
            (c["MessageID"], c["ClickedAt"].replace("Z", ""), c["Url"])
            for c in every_row(api, "clickstatistics", **history)
        ),
        "bounces": Counter(
            (b["ContactID"], b["CampaignID"], b["BouncedAt"].replace("Z", ""), b["IsStatePermanent"])
            for b in every_row(api, "bouncestatistics", **history)
        ),
        "opens": Counter(
            (o["MessageID"], o["OpenedAt"].replace("Z", ""))
            for o in every_row(api, "openinformation", sort="OpenedAt", **history)
        ),
        "sms": Counter((s["To"], s["CreationTS"]) for s in sms),
        "contacts": Counter((c["ID"], c["Email"]) for c in every_row(api, "contact")),
        "lists": Counter((r["ID"], r["Name"], r["SubscriberCount"]) for r in every_row(api, "contactslist")),
        "memberships": Counter(
            (r["ID"], r["ContactID"], r["ListID"], r["IsUnsubscribed"])
            for r in every_row(api, "listrecipient")
        ),
        "properties": Counter(
            (r["ContactID"], item["Name"], str(item["Value"]))
            for r in every_row(api, "contactdata")
            for item in r["Data"]
            if item["Value"] not in (None, "")
        ),
        "property_definitions": Counter((r["ID"], r["Name"]) for r in every_row(api, "contactmetadata")),
        "campaign_stats": Counter(campaign_stats(api)),
    }


def extracted(db: Path) -> Truth:
    def utc(column: str) -> str:
        return f"strftime({column} at time zone 'UTC', '%Y-%m-%dT%H:%M:%S')"

    return {
        "messages": Counter(query(db, "select id, contact_id, status from mailjet.messages")),
        "message_ids": Counter(query(db, "select id, contact_id from mailjet.messages")),
        "campaigns": Counter(query(db, "select id, subject, status from mailjet.campaigns")),
        "drafts": Counter(query(db, "select id, title from mailjet.campaign_drafts")),
        "clicks": Counter(query(db, f"select message_id, {utc('clicked_at')}, url from mailjet.clicks")),
        "bounces": Counter(
            query(
                db,
                f"select contact_id, campaign_id, {utc('bounced_at')}, is_state_permanent "
                "from mailjet.bounces",
            )
        ),
        "opens": Counter(query(db, f"select message_id, {utc('opened_at')} from mailjet.opens")),
        "sms": Counter(query(db, "select recipient, epoch(created_at)::bigint from mailjet.sms_messages")),
        "contacts": Counter(query(db, "select id, email from mailjet.contacts")),
        "lists": Counter(query(db, "select id, name, subscriber_count from mailjet.contact_lists")),
        "memberships": Counter(
            query(db, "select id, contact_id, list_id, is_unsubscribed from mailjet.list_recipients")
        ),
        "properties": Counter(query(db, "select contact_id, name, value from mailjet.contact_properties")),
        "property_definitions": Counter(
            query(db, "select id, name from mailjet.contact_property_definitions")
        ),
        "campaign_stats": Counter(
            query(db, "select campaign_id, total_count, message_opened_count from mailjet.campaign_stats")
        ),
    }


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Api]:
    """One sandbox for every reading, with SMS sent (none are seeded)."""
    app = start(contacts=1500)
    api = Api(app)
    for i in range(SMS_SENT):
        send_sms(api, f"+3360000{i:04d}", f"Code {i}")
    bounced = [(b["ContactID"], b["CampaignID"]) for b in every_row(api, "bouncestatistics", FromTS=1)]
    assert len(bounced) > len(set(bounced)), "no message bounced twice: a bounce's key would not be tried"
    yield api
    app.stop()


def late_events(api: Api) -> None:
    """An open, a click and a bounce now, on messages sent days ago: late events on older messages,
    which an event log filtered on the send time lists under that old time."""
    now = int(api.admin("GET", "clock").json()["epoch"])
    old = api.data("message", FromTS=now - 20 * 86400, ToTS=now - 5 * 86400, Limit=1000, Sort="ID")
    assert len(old) >= 3, "the sandbox has no messages of days ago to engage with"
    for kind, message in zip(("open", "click", "bounce"), old, strict=False):
        body = {"event": kind, "message_id": message["ID"], "hard": False}
        assert api.admin("POST", "events", body).status_code == 200


@pytest.mark.parametrize("reading", READINGS)
def test_every_table_is_exact_whichever_reading_holds(
    reading: str, sandbox: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = sandbox
    db = tmp_path / "mj.duckdb"
    # Many windows (many edges) and many pages (a count taken for a page shows).
    point_at(api, monkeypatch, window_rows="150", page_size="50", sms_token=api.app.config.sms_token)
    for run in ("backfill", "incremental"):
        if run == "incremental":
            late_events(api)
        expected = ground_truth(api)
        assert api.admin("PUT", "quirks", {"spec": reading}).status_code == 200
        try:
            extract(db=str(db))
        finally:
            api.admin("PUT", "quirks", {"spec": ""})
        found = extracted(db)
        for name, rows in expected.items():
            if run == "incremental" and name == "messages":
                continue  # a message's status as of its read: a later event on an old one is not read again
            assert rows, f"the sandbox has no {name}: the comparison would prove nothing"
            # Multisets: a row loaded twice is as wrong as a row missing.
            missing, extra = rows - found[name], found[name] - rows
            assert not missing and not extra, (
                f"{name} under {reading}, {run}: {missing.total()} missing, {extra.total()} extra"
            )


def test_unknown_quirks_are_refused_by_name() -> None:
    from sandbox.exceptions import SandboxConfigError
    from sandbox.quirks import parse_quirks

    with pytest.raises(SandboxConfigError, match="nope: no such quirk"):
        parse_quirks("fromts-exclusive,nope")
    assert parse_quirks("all") == frozenset(KNOWN) - {"sort-unknown-ignored"}
    assert parse_quirks("") == frozenset()


def test_quirks_that_exclude_each_other() -> None:
    from sandbox.exceptions import SandboxConfigError
    from sandbox.quirks import parse_quirks

    with pytest.raises(SandboxConfigError, match="exclude each other"):
        parse_quirks("sort-unknown-400,sort-unknown-ignored")
    chosen = parse_quirks("all")
    assert "sort-unknown-400" in chosen and "sort-unknown-ignored" not in chosen  # the harsher


def test_the_cli_help_names_every_quirk() -> None:
    from pipelines.cli import QUIRKS

    assert tuple(KNOWN) == QUIRKS
