"""The durable record of unsubscriptions (`mailjet_sync.sync_unsubscriptions`): an unsubscription the sync
has seen is never forgotten when its source forgets it (Mailjet's membership erased, a CRM file loaded
without the row), and only a newer grant lets the person back; a consent event dated in the future stops
the plan instead of outranking everything."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.errors import EXIT_USAGE, CommandError
from pipelines.plan import plan
from pipelines.sync.config import SyncConfiguration
from pipelines.sync.tables import TABLES
from tests.sync.world import LIST_ID, PERMISSION, Person, World, audiences_file, left_out, planned

CONFIG = SyncConfiguration(max_removal_pct=100)


def replan(db: Path, tmp_path: Path, people: list[Person], **file: str | None) -> None:
    """Write the world's Mailjet and CRM rows again (the sync's own tables stay) and plan."""
    with duckdb.connect(str(db)) as con:
        World(people).write(con, snapshot=False)
    source = tmp_path / "audiences.sql"
    source.write_text(audiences_file(**file), encoding="utf-8")
    plan(db=str(db), audiences=str(source), config=CONFIG)


def first_plan(tmp_path: Path, people: list[Person], **file: str | None) -> Path:
    db = tmp_path / "sync.duckdb"
    World(people).build(db)
    source = tmp_path / "audiences.sql"
    source.write_text(audiences_file(**file), encoding="utf-8")
    plan(db=str(db), audiences=str(source), config=CONFIG)
    return db


def stopped_plan(db: Path, tmp_path: Path, now: datetime | None = None) -> CommandError:
    """The error (exit 2) of a plan of the shipped-like audiences file that refuses to plan."""
    source = tmp_path / "audiences.sql"
    source.write_text(audiences_file(), encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        plan(db=str(db), audiences=str(source), config=CONFIG, now=now)
    assert caught.value.exit_code == EXIT_USAGE
    return caught.value


def recorded(db: Path) -> set[tuple[str, int | None, str | None, str]]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select email, list_id, permission, source from mailjet_sync.sync_unsubscriptions"
        ).fetchall()
    return {(str(e), list_id, p, str(s)) for e, list_id, p, s in rows}


@pytest.mark.parametrize("permission", [PERMISSION, None], ids=["permission", "no-permission"])
def test_an_unsubscription_mailjet_no_longer_shows_keeps_the_person_off_the_list(
    tmp_path: Path, permission: str | None
) -> None:
    unsubscribed = Person("gone@x.com", member="unsubscribed", subscribed=1, unsubscribed=4)
    db = first_plan(tmp_path, [unsubscribed], permission=permission)
    assert left_out(db) == {"gone@x.com": {("plan", "unsubscribed_in_mailjet")}}
    assert ("gone@x.com", LIST_ID, None, "mailjet") in recorded(db)

    # A removal erased the membership, and Mailjet's record of the unsubscription with it.
    erased = Person("gone@x.com", member=None)
    replan(db, tmp_path, [erased], permission=permission)
    assert planned(db) == {}
    assert left_out(db) == {"gone@x.com": {("plan", "unsubscribed_in_mailjet")}}


def test_a_grant_newer_than_the_recorded_unsubscription_lets_the_person_back(tmp_path: Path) -> None:
    db = first_plan(tmp_path, [Person("back@x.com", member="unsubscribed", subscribed=1, unsubscribed=4)])
    replan(db, tmp_path, [Person("back@x.com", member=None, consents=((True, 2),))])
    assert planned(db) == {}
    replan(db, tmp_path, [Person("back@x.com", member=None, consents=((True, 2), (True, 6)))])
    assert planned(db) == {"back@x.com": {("addnoforce", "joined_audience")}}


def test_a_crm_withdrawal_survives_a_crm_file_loaded_without_it(tmp_path: Path) -> None:
    withdrew = Person("w@x.com", member="subscribed", subscribed=1, consents=((True, 1), (False, 5)))
    db = first_plan(tmp_path, [withdrew])
    assert planned(db) == {"w@x.com": {("unsub", "consent_withdrawn")}}
    assert ("w@x.com", None, PERMISSION, "crm") in recorded(db)
    # The next CRM file holds only the old grant: the withdrawal is still known, and still acted on.
    replan(db, tmp_path, [Person("w@x.com", member="subscribed", subscribed=1, consents=((True, 1),))])
    assert planned(db) == {"w@x.com": {("unsub", "consent_withdrawn")}}


def test_a_consent_event_dated_in_the_future_stops_the_plan_naming_it(tmp_path: Path) -> None:
    db = tmp_path / "sync.duckdb"
    people = [Person("typo@x.com", member="subscribed", subscribed=1, consents=((True, 1),))]
    World(people).build(db)
    with duckdb.connect(str(db)) as con:
        con.execute(
            "insert into crm.consent_events values ('typo@x.com', ?, true, '2099-03-01T00:00:00Z', 'crm'), "
            "('typo@x.com', ?, false, '2026-03-01T00:00:00Z', 'crm')",
            [PERMISSION, PERMISSION],
        )
    message = str(stopped_plan(db, tmp_path, now=datetime(2026, 6, 1, tzinfo=UTC)))
    assert "1 consent event is dated in the future" in message
    assert f"typo@x.com {PERMISSION} granted at 2099-03-01" in message
    assert "load it again" in message
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from mailjet_sync.sync_runs").fetchone() == (0,)
        assert con.execute("select count(*) from mailjet_sync.sync_unsubscriptions").fetchone() == (0,)


def snapshot(db: Path) -> list[tuple[str, str]]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("select email, last_action from mailjet_sync.sync_snapshot").fetchall()
    return [(str(e), str(a)) for e, a in rows]


def test_a_person_who_unsubscribed_and_subscribed_again_by_themselves_is_theirs(tmp_path: Path) -> None:
    """The sync added them; they unsubscribed (the CRM heard of it), then subscribed again on their own:
    their new subscription outranks the older withdrawal, and the sync no longer calls them its own."""
    grant, withdrawal = (True, 0), (False, 3)
    added = Person("own@x.com", member="subscribed", subscribed=1, consents=(grant,), managed=True)
    db = first_plan(tmp_path, [added])
    assert planned(db) == {}
    left = Person(
        "own@x.com", member="unsubscribed", subscribed=1, unsubscribed=3, consents=(grant, withdrawal)
    )
    replan(db, tmp_path, [left])
    assert snapshot(db) == [("own@x.com", "released")]
    back = Person("own@x.com", member="subscribed", subscribed=5, consents=(grant, withdrawal))
    replan(db, tmp_path, [back])
    assert planned(db) == {}
    stays = Person("stays@x.com", member="subscribed", subscribed=1)  # the audience is not empty
    replan(db, tmp_path, [Person("own@x.com", in_audience=False, member="subscribed", subscribed=5), stays])
    assert planned(db) == {}  # out of the audience: theirs, so never removed


def test_a_subscription_renewed_between_two_extracts_releases_the_membership(tmp_path: Path) -> None:
    grant, withdrawal = (True, 0), (False, 3)
    added = Person("quick@x.com", member="subscribed", subscribed=1, consents=(grant,), managed=True)
    db = first_plan(tmp_path, [added])
    renewed = Person("quick@x.com", member="subscribed", subscribed=5, consents=(grant, withdrawal))
    replan(db, tmp_path, [renewed])
    assert planned(db) == {}
    assert snapshot(db) == [("quick@x.com", "released")]


def test_a_membership_the_sync_made_stays_its_own_while_nothing_changed(tmp_path: Path) -> None:
    added = Person("kept@x.com", member="subscribed", subscribed=1, consents=((True, 0),), managed=True)
    db = first_plan(tmp_path, [added])
    replan(db, tmp_path, [added])
    assert snapshot(db) == [("kept@x.com", "addnoforce")]
    stays = Person("stays@x.com", member="subscribed", subscribed=1)  # the audience is not empty
    replan(db, tmp_path, [Person("kept@x.com", in_audience=False, member="subscribed", subscribed=1), stays])
    assert planned(db) == {"kept@x.com": {("remove", "left_audience")}}


@pytest.mark.parametrize(
    "source",
    ["mailjet-subscription", "crm-without-permission", "record", "webhook"],
)
def test_a_future_date_in_any_source_of_the_ledger_stops_the_plan(tmp_path: Path, source: str) -> None:
    """Only a source date later than now sends the plan to read the ledger for future events, so each
    source's dates must be looked at: Mailjet's memberships, the CRM's rows (one whose permission is blank
    too), the record of unsubscriptions, webhook `unsub` events."""
    db = tmp_path / "sync.duckdb"
    person = Person(
        "x@x.com", member="subscribed", subscribed=27_000 if source == "mailjet-subscription" else 1
    )
    World([person]).build(db)
    future = "2099-03-01T00:00:00Z"
    with duckdb.connect(str(db)) as con:
        if source == "crm-without-permission":
            con.execute("insert into crm.consent_events values ('x@x.com', ' ', true, ?, 'crm')", [future])
        elif source == "record":
            columns = ", ".join(f'"{c}" {kind}' for c, kind in TABLES["sync_unsubscriptions"].items())
            con.execute(f"create table mailjet_sync.sync_unsubscriptions ({columns})")
            con.execute(
                "insert into mailjet_sync.sync_unsubscriptions (email, list_id, unsubscribed_at, source, "
                "recorded_at) values ('x@x.com', ?, ?, 'mailjet', now())",
                [LIST_ID, future],
            )
        elif source == "webhook":
            con.execute(
                "create table mailjet_api.events as select 'unsub' as event, 'x@x.com' as email, "
                "cast(? as timestamptz) as time, cast(? as bigint) as mj_list_id",
                [future, LIST_ID],
            )
    message = str(stopped_plan(db, tmp_path))
    assert "dated in the future" in message and "x@x.com" in message
