"""Time-windowed resources: today-only without FromTS, FromTS=1 for everything, the injectable clock."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import FIXED_NOW, Api


def ts(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def test_messages_default_to_today(shared: Api) -> None:
    today = FIXED_NOW[:10]
    rows = shared.data("message", Limit=0)
    assert rows and all(str(r["ArrivedAt"]).startswith(today) for r in rows)
    total = shared.get("message", FromTS=1, countOnly=1).json()["Total"]
    assert total == len(shared.app.store.messages) > len(rows)


def test_campaigns_default_to_today_and_fromts_1_is_everything(shared: Api) -> None:
    everything = shared.data("campaign", FromTS=1, Limit=0)
    assert len(everything) == len(shared.app.store.campaigns)
    created = sorted(ts(str(c["CreatedAt"])) for c in everything)
    assert (created[-1] - created[0]).days > 700
    today = shared.data("campaign", Limit=0)
    assert all(str(c["CreatedAt"]).startswith(FIXED_NOW[:10]) for c in today)


def test_fromts_and_tots_accept_unix_and_rfc3339(shared: Api) -> None:
    start, end = "2026-01-01T00:00:00Z", "2026-01-31T23:59:59Z"
    unix = shared.data("message", FromTS=int(ts(start).timestamp()), ToTS=int(ts(end).timestamp()), Limit=0)
    rfc = shared.data("message", FromTS="2026-01-01T00:00:00", ToTS=end, Limit=0)
    assert unix == rfc and unix
    assert all(start <= str(m["ArrivedAt"]) <= end for m in unix)


def test_event_logs_are_windowed_on_event_time(shared: Api) -> None:
    opens = shared.data(
        "openinformation", FromTS="2026-03-01T00:00:00Z", ToTS="2026-03-31T23:59:59Z", Limit=0
    )
    assert opens and all(str(o["OpenedAt"]).startswith("2026-03") for o in opens)
    clicks = shared.data("clickstatistics", FromTS=1, Limit=5)
    assert clicks and all(isinstance(c["ID"], int) for c in clicks)
    bounces = shared.data("bouncestatistics", FromTS=1, Limit=0)
    assert any(b["IsStatePermanent"] for b in bounces) and any(not b["IsStatePermanent"] for b in bounces)


def test_message_show_flags_add_fields(shared: Api) -> None:
    plain = shared.data("message", FromTS=1, Limit=1)[0]
    assert "ContactAlt" not in plain and "Subject" not in plain
    shown = shared.data("message", FromTS=1, Limit=1, ShowContactAlt="true", ShowSubject="true")[0]
    assert "@" in str(shown["ContactAlt"]) and shown["Subject"]


def test_bad_timestamps_are_400(shared: Api) -> None:
    for value in ("yesterday", "99999999999999", "2026-13-45"):
        response = shared.get("message", FromTS=value)
        assert response.status_code == 400, value


def test_advancing_the_clock_moves_today(api: Api) -> None:
    before = api.get("campaign", countOnly=1).json()["Total"]
    sent = api.admin("POST", "campaigns", {"list": "Events", "subject": "Late news"}).json()
    assert api.get("campaign", countOnly=1).json()["Total"] == before + 1
    messages = api.data("message", Campaign=sent["CampaignID"], Limit=0)
    assert len(messages) == sent["messages"] > 0
    clock = api.admin("POST", "clock", {"advance": 86400}).json()
    assert clock["now"].startswith("2026-06-16")
    assert api.get("campaign", countOnly=1).json()["Total"] == 0
    assert api.get("message", Campaign=sent["CampaignID"], countOnly=1).json()["Total"] == 0


def test_statcounters_per_campaign(shared: Api) -> None:
    campaign = shared.data("campaign", FromTS=1, Limit=1, Sort="ID")[0]
    row = shared.data(
        "statcounters",
        CounterSource="Campaign",
        CounterTiming="Message",
        CounterResolution="Lifetime",
        SourceId=campaign["ID"],
    )[0]
    messages = [m for m in shared.app.store.messages if m.CampaignID == campaign["ID"]]
    assert row["SourceID"] == campaign["ID"] and row["Total"] == len(messages)
    assert row["MessageOpenedCount"] == sum(
        m.Status in ("opened", "clicked", "unsub", "spam") for m in messages
    )
    missing = shared.get("statcounters", CounterSource="Campaign")
    assert missing.status_code == 400


def test_quirk_fromts_exclusive_leaves_out_the_edges_own_seconds(api: Api) -> None:
    message = api.data("message", FromTS=1, Limit=1, Sort="ArrivedAt")[0]
    second = int(datetime.fromisoformat(str(message["ArrivedAt"]).replace("Z", "+00:00")).timestamp())

    def found(lo: int, hi: int) -> bool:
        rows = api.data("message", FromTS=lo, ToTS=hi, Limit=1000, Sort="ArrivedAt")
        return any(r["ID"] == message["ID"] for r in rows)

    assert found(second, second) and found(second - 1, second + 1)  # the documented default: inclusive
    assert api.admin("PUT", "quirks", {"spec": "fromts-exclusive"}).json() == {"quirks": ["fromts-exclusive"]}
    assert not found(second, second) and not found(second, second + 1) and not found(second - 1, second)
    assert found(second - 1, second + 1)
    bad = api.admin("PUT", "quirks", {"spec": "sideways"})
    assert bad.status_code == 400 and "no such quirk" in bad.text
    assert api.admin("PUT", "quirks", {"spec": ""}).json() == {"quirks": []}
    assert found(second, second)
