"""A message's status follows Mailjet within the horizon: a later run reads the messages of the last
`event_horizon_days` again and merges them, so one that bounced, or was opened or clicked, since the run
that first read it shows its new status. A message older than the horizon keeps the status it was read
with (its events still arrive in `opens`, `clicks` and `bounces`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.extract import extract
from tests.conftest import Api
from tests.sources.conftest import point_at, query, requests_log

DAY = 86400
LAG = 3600  # lag_seconds' default
HORIZON = 30 * DAY  # event_horizon_days' default


def sent_messages(db: Path, where: str) -> list[int]:
    """IDs of messages loaded as `sent` that `where` (on `arrived`, `arrived_at` in seconds, and `newest`, the
    cursor) selects."""
    rows = query(
        db,
        "with m as (select id, epoch(arrived_at)::bigint as arrived, status from mailjet.messages), "
        "c as (select max(arrived) as newest from m) "
        f"select id from m, c where status = 'sent' and {where} order by id",
    )
    return [r[0] for r in rows]


def status(db: Path, message_id: int) -> str:
    return str(query(db, f"select status from mailjet.messages where id = {message_id}")[0][0])


def event(api: Api, kind: str, message_id: int) -> None:
    done = api.admin("POST", "events", {"event": kind, "message_id": message_id})
    assert done.status_code == 200, done.text


def test_a_status_that_changes_within_the_horizon_is_updated_and_an_older_one_is_not(
    small: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(small, monkeypatch)  # the defaults: lag_seconds 3600, event_horizon_days 30
    db = tmp_path / "mj.duckdb"
    extract(db=str(db))
    cursor = query(db, "select epoch(max(arrived_at))::bigint from mailjet.messages")[0][0]
    # Within the horizon, clear of its edge; and well before it.
    recent = sent_messages(db, f"arrived between newest - {HORIZON - DAY} and newest - {2 * LAG}")
    older = sent_messages(db, f"arrived < newest - {HORIZON + 2 * DAY}")
    assert len(recent) >= 3 and older, (recent, older)
    bounced, opened, clicked = recent[:3]
    old = older[0]
    for kind, message_id in (("bounce", bounced), ("open", opened), ("click", clicked), ("bounce", old)):
        event(small, kind, message_id)
    assert small.admin("DELETE", "requests").status_code == 204

    extract(db=str(db))

    assert status(db, bounced) == "hardbounced"
    assert status(db, opened) == "opened"
    assert status(db, clicked) == "clicked"
    # The limit: older than the horizon, the message keeps the status it was read with (Mailjet now says
    # hardbounced), though its bounce is in `bounces`.
    assert small.data(f"message/{old}")[0]["Status"] == "hardbounced"
    assert status(db, old) == "sent"
    fresh = query(
        db,
        "select count(*) from mailjet.bounces b join mailjet.messages m using (contact_id, campaign_id) "
        f"where m.id = {old} and epoch(b.bounced_at) >= {cursor}",
    )
    assert fresh == [(1,)]
    # Merged on the key: no message twice, every other one as before.
    assert query(db, "select count(*) - count(distinct id) from mailjet.messages") == [(0,)]
    # Read from the cursor less the lag and the horizon (one second wider: the window's edges).
    asked = [r["params"] for r in requests_log(small) if r["path"] == "/v3/REST/message"]
    assert {int(p["fromts"]) for p in asked} == {cursor - LAG - HORIZON - 1}
    # The cursor did not move back: a third run asks from the same second.
    assert query(db, "select epoch(max(arrived_at))::bigint from mailjet.messages") == [(cursor,)]
    assert small.admin("DELETE", "requests").status_code == 204
    extract(db=str(db))
    asked = [r["params"] for r in requests_log(small) if r["path"] == "/v3/REST/message"]
    assert {int(p["fromts"]) for p in asked} == {cursor - LAG - HORIZON - 1}


def test_a_horizon_of_zero_reads_messages_from_the_cursor_only(
    small: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(small, monkeypatch, event_horizon_days="0")
    db = tmp_path / "mj.duckdb"
    extract(db=str(db))
    cursor = query(db, "select epoch(max(arrived_at))::bigint from mailjet.messages")[0][0]
    recent = sent_messages(db, f"arrived between newest - {HORIZON - DAY} and newest - {2 * LAG}")[0]
    event(small, "bounce", recent)
    assert small.admin("DELETE", "requests").status_code == 204

    extract(db=str(db))

    asked = [r["params"] for r in requests_log(small) if r["path"] == "/v3/REST/message"]
    assert {int(p["fromts"]) for p in asked} == {cursor - LAG - 1}
    assert status(db, recent) == "sent"  # off: as before the horizon reached the messages
