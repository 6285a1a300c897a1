"""Second and later extracts: nothing duplicated, only the new window asked for, deletions applied."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from pathlib import Path

import pytest

from pipelines.extract import extract
from pipelines.import_csv import import_csv
from sources.mailjet.windows import split_windows
from tests.conftest import Api
from tests.sources.conftest import every_row, point_at, query, requests_log

TABLES = (
    "contacts",
    "contact_lists",
    "list_recipients",
    "contact_properties",
    "campaigns",
    "messages",
    "opens",
    "clicks",
    "bounces",
)
LAG = 3600
HORIZON = 30 * 86400  # event_horizon_days' default


def sizes(db: Path) -> dict[str, int]:
    return {t: query(db, f"select count(*) from mailjet.{t}")[0][0] for t in TABLES}


def test_rerun_adds_nothing_and_asks_only_since_the_cursor_minus_the_lag_and_the_horizon(
    small: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(small, monkeypatch, lag_seconds=str(LAG))
    db = tmp_path / "mj.duckdb"
    extract(db=str(db))
    before = sizes(db)
    cursor = query(db, "select epoch(max(arrived_at))::bigint from mailjet.messages")[0][0]
    assert small.admin("DELETE", "requests").status_code == 204

    extract(db=str(db))

    assert sizes(db) == before
    assert query(db, "select count(*) - count(distinct id) from mailjet.messages")[0][0] == 0
    asked = [r["params"] for r in requests_log(small) if r["path"] == "/v3/REST/message"]
    assert asked, "messages were not requested at all"
    # From the cursor minus the lag and the horizon (statuses that changed within it are read again), one
    # second earlier: the window's edges hold whichever way Mailjet reads FromTS (inclusive, or "after
    # FromTS"). With event_horizon_days = 0, from the cursor minus the lag (test_message_status.py).
    assert {int(p["fromts"]) for p in asked} == {cursor - LAG - HORIZON - 1}
    assert all(int(p["tots"]) >= cursor for p in asked)


def test_new_messages_arrive_exactly_once(
    small: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(small, monkeypatch)
    db = tmp_path / "mj.duckdb"
    extract(db=str(db))
    before = query(db, "select count(*) from mailjet.messages")[0][0]
    assert small.admin("POST", "clock", {"advance": 7200}).status_code == 200
    sent = small.admin("POST", "campaigns", {"list": "Newsletter", "subject": "Winter sale"}).json()

    extract(db=str(db))
    extract(db=str(db))

    campaign_messages = {m["ID"] for m in every_row(small, "message", FromTS=1, Campaign=sent["CampaignID"])}
    assert len(campaign_messages) == sent["messages"] > 0
    assert query(db, "select count(*) from mailjet.messages")[0][0] == before + sent["messages"]
    loaded = {
        r[0] for r in query(db, f"select id from mailjet.messages where campaign_id = {sent['CampaignID']}")
    }
    assert loaded == campaign_messages
    assert query(db, f"select subject from mailjet.campaigns where id = {sent['CampaignID']}") == [
        ("Winter sale",)
    ]


def test_deleted_memberships_and_contacts_disappear(
    small: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(small, monkeypatch)
    db = tmp_path / "mj.duckdb"
    extract(db=str(db))
    member = small.data("listrecipient", Limit=1, Offset=10)[0]
    assert small.delete(f"listrecipient/{member['ID']}").status_code == 204
    gone = small.data("contact", Limit=1, Offset=20)[0]
    deleted = small.session.delete(f"{small.base}/v4/contacts/{gone['ID']}", timeout=30)
    assert deleted.status_code == 200
    assert small.admin("POST", "contacts/purge").json() == {"purged": 1}

    extract(db=str(db))

    assert query(db, f"select count(*) from mailjet.list_recipients where id = {member['ID']}") == [(0,)]
    assert query(db, f"select count(*) from mailjet.contacts where id = {gone['ID']}") == [(0,)]
    assert query(db, f"select count(*) from mailjet.contact_properties where contact_id = {gone['ID']}") == [
        (0,)
    ]
    assert query(db, "select count(*) from mailjet.contacts")[0][0] == len(every_row(small, "contact"))
    assert query(db, "select count(*) from mailjet.list_recipients")[0][0] == len(
        every_row(small, "listrecipient")
    )


def test_rows_from_other_sources_survive_a_full_refresh_resource(
    small: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(small, monkeypatch)
    db = tmp_path / "mj.duckdb"
    extract(db=str(db), resources="contacts")
    export = tmp_path / "export.csv"
    export.write_text("email\nfrom.a.file@example.com\n", encoding="utf-8")
    import_csv(db=str(db), files=[str(export)], progress=False)
    extract(db=str(db), resources="contacts")  # replaces mailjet_api.contacts, and nothing else
    assert query(db, "select email, _source from mailjet.contacts where _source <> 'api'") == [
        ("from.a.file@example.com", "csv:export.csv")
    ]


def test_full_refresh_rereads_history_without_duplicates(
    small: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(small, monkeypatch)
    db = tmp_path / "mj.duckdb"
    extract(db=str(db), resources="messages")
    before = query(db, "select count(*), epoch(min(arrived_at))::bigint from mailjet.messages")[0]
    assert small.admin("DELETE", "requests").status_code == 204

    extract(db=str(db), resources="messages", full_refresh=True)

    asked = [int(r["params"]["fromts"]) for r in requests_log(small) if r["path"] == "/v3/REST/message"]
    assert min(asked) <= before[1]
    assert query(db, "select count(*), count(distinct id) from mailjet.messages")[0] == (before[0], before[0])


@pytest.mark.parametrize(
    ("rows_per_second", "max_rows"),
    [
        pytest.param({}, 10, id="empty"),
        pytest.param({5: 3}, 10, id="one-small"),
        pytest.param({s: 1 for s in range(0, 1000, 7)}, 10, id="spread"),
        pytest.param({500: 50}, 10, id="one-busy-second"),
    ],
)
def test_split_windows_cover_every_row_once(rows_per_second: dict[int, int], max_rows: int) -> None:
    def count(spans: list[tuple[int, int]]) -> list[int]:
        return [sum(n for s, n in rows_per_second.items() if lo <= s <= hi) for lo, hi in spans]

    windows = split_windows(count, 0, 999, max_rows)
    assert sum(rows for _, _, rows in windows) == sum(rows_per_second.values())
    assert all(rows <= max_rows or lo == hi for lo, hi, rows in windows)
    assert all(a[1] < b[0] for a, b in pairwise(windows))


def test_cursor_is_a_utc_timestamp(small: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    point_at(small, monkeypatch)
    db = tmp_path / "mj.duckdb"
    extract(db=str(db), resources="messages")
    newest = max(m["ArrivedAt"] for m in every_row(small, "message", FromTS=1))
    loaded = query(db, "select max(arrived_at) from mailjet.messages")[0][0]
    assert loaded == datetime.fromisoformat(newest.replace("Z", "+00:00"))
