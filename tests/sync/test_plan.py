"""`mailjet-elt plan` as a command: against a seeded sandbox, its mistakes, its guards, the consent
ledger it builds, and what happens when it is killed or meets another writer."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from pipelines.errors import CommandError
from pipelines.extract import extract
from pipelines.load import load
from pipelines.plan import plan
from pipelines.report import render
from pipelines.sync.audiences import SHIPPED_AUDIENCES
from pipelines.sync.config import SyncConfiguration
from pipelines.warehouse.datasets import RAW_TABLES
from tests.conftest import BIN, Api, creds, run_cli
from tests.csv_import.conftest import load as import_files
from tests.csv_import.conftest import write
from tests.sync.world import LIST_ID, Person, World, audiences_file, planned, run_plan


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(sql).fetchall()


def test_plan_against_a_seeded_sandbox_reads_like_a_plan(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = creds(api)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    db = str(tmp_path / "w.duckdb")
    extract(db=db)  # the setup in-process: the plan below is the command under test
    emails = [r[0] for r in rows(Path(db), "select email from mailjet.contacts order by id limit 120")]
    profiles = ["email,firstname,country"] + [
        f"{e},Name{i},{'DE' if i % 3 else 'FR'}" for i, e in enumerate(emails)
    ]
    (tmp_path / "profiles.csv").write_text("\n".join(profiles) + "\n", encoding="utf-8")
    events = ["email,permission,granted,at,source"]
    for i, e in enumerate(emails):
        events.append(f"{e},email_newsletter,{'no' if i % 10 == 0 else 'yes'},2026-06-14T10:00:00Z,crm")
        events.append(f"{e},email_service,yes,2026-06-01T10:00:00Z,crm")
    (tmp_path / "consent.csv").write_text("\n".join(events) + "\n", encoding="utf-8")
    load(db=db, file=str(tmp_path / "profiles.csv"), table="profiles")
    load(db=db, file=str(tmp_path / "consent.csv"), table="consent_events")
    before = int(api.admin("GET", "requests").json()["total"])

    shown = run_cli(["--db", db, "plan"], env, tmp_path)
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert "nothing has been sent to Mailjet" in out
    assert 'newsletter -> list "Newsletter" (ID ' in out and 'service -> list "Service messages" (ID ' in out
    assert "subscribe (addnoforce)" in out and "e.g. " in out
    assert "guard removal_share: ok" in out and "guard data_age: ok" in out
    assert "audiences.sql" in out  # names the file it used

    as_json = run_cli(["--db", db, "plan", "--audience", "newsletter", "--format", "json"], env, tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    assert document["result"] == "plan"
    [newsletter] = document["plans"]
    assert newsletter["audience"] == "newsletter" and newsletter["list_name"] == "Newsletter"
    assert newsletter["actions"]["unsub"]["consent_withdrawn"] > 0  # every tenth one withdrew
    assert int(api.admin("GET", "requests").json()["total"]) == before  # plan never calls Mailjet

    runs = rows(Path(db), "select run_id, audience, status from mailjet_sync.sync_runs order by run_id")
    assert [r[1:] for r in runs] == [
        ("newsletter", "planned"),
        ("service", "planned"),
        ("newsletter", "planned"),
    ]
    planned_rows = rows(
        Path(db), f"select count(*) from mailjet_sync.sync_plan where run_id = {newsletter['run_id']}"
    )
    assert planned_rows[0][0] == sum(sum(r.values()) for r in newsletter["actions"].values())


def test_mistakes_stop_with_exit_2_and_the_fix(tmp_path: Path) -> None:
    missing_db = run_cli(["--db", str(tmp_path / "none.duckdb"), "plan"], {}, tmp_path)
    assert missing_db.returncode == 2 and "Run `mailjet-elt extract` first" in missing_db.stderr
    db = tmp_path / "w.duckdb"
    World([Person("a@x.com")]).build(db)
    unknown = run_cli(["--db", str(db), "plan", "--audience", "nope"], {}, tmp_path)
    assert unknown.returncode == 2 and "defines newsletter, service" in unknown.stderr


@pytest.mark.parametrize(
    ("body", "said"),
    [
        pytest.param(
            "-- audience: news\n-- list: Newsletter\ncreate or replace view audience_news as "
            "select email from crm.customers",
            ["audiences.sql:1: audience 'news'", "customers does not exist", "mailjet-elt load"],
            id="missing-crm-table",
        ),
        pytest.param(
            "-- audience: news\n-- list: Newsletter\ncreate or replace view audience_news as "
            "select * from (select email as address from crm.profiles)",
            ["yields no `email` column", "address"],
            id="star-without-email",
        ),
        pytest.param(
            "-- audience: news\n-- list: Newsletter\n-- properties: plan\n"
            "create or replace view audience_news "
            "as select * from crm.profiles",
            ["property plan not among the view's columns", "email, firstname, country"],
            id="star-without-property",
        ),
        pytest.param(
            "-- audience: a\n-- list: Newsletter\n-- permission: email_newsletter\n"
            "create or replace view audience_a as select email from crm.profiles\n"
            "-- audience: b\n-- list: Newsletter\n-- permission: email_service\n"
            "create or replace view audience_b as select email from crm.profiles\n",
            ["audiences 'a' and 'b' both feed list 'Newsletter'", "combine them in one view"],
            id="two-audiences-one-list",
        ),
    ],
)
def test_audience_mistakes_found_by_the_database(tmp_path: Path, body: str, said: list[str]) -> None:
    db = tmp_path / "w.duckdb"
    World([Person("a@x.com")]).build(db)
    source = tmp_path / "audiences.sql"
    source.write_text(body, encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        plan(db=str(db), audiences=str(source), config=SyncConfiguration())
    assert caught.value.exit_code == 2
    for text in said:
        assert text in str(caught.value)
    written = rows(
        db,
        "select count(*) from information_schema.tables t where table_schema = 'mailjet_sync' and "
        "table_name = 'sync_runs'",
    )
    if written == [(1,)]:
        assert rows(db, "select count(*) from mailjet_sync.sync_runs") == [(0,)]


def test_consent_events_without_the_documented_columns_stop(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    World([Person("a@x.com")]).build(db)
    with duckdb.connect(str(db)) as con:
        con.execute("alter table crm.consent_events rename column granted to opted_in")
    source = tmp_path / "audiences.sql"
    source.write_text(audiences_file(), encoding="utf-8")
    with pytest.raises(
        CommandError, match=r"crm.consent_events has no column granted.*--table consent_events"
    ):
        plan(db=str(db), audiences=str(source), config=SyncConfiguration())


def test_stale_or_missing_mailjet_data_stops_the_plan(tmp_path: Path) -> None:
    old = World([Person("a@x.com")], extracted_at=datetime.now(UTC) - timedelta(hours=30))
    db = tmp_path / "old.duckdb"
    old.build(db)
    source = tmp_path / "audiences.sql"
    source.write_text(audiences_file(), encoding="utf-8")
    [stale] = plan(db=str(db), audiences=str(source), config=SyncConfiguration()).plans
    guard = {g.name: g for g in stale.guards}["data_age"]
    said = "extracted 30.0 h ago (limit 24 h in [sync] max_data_age_hours)"
    assert guard.verdict == "stop" and said in guard.detail
    fresh = plan(db=str(db), audiences=str(source), config=SyncConfiguration(max_data_age_hours=48)).plans[0]
    assert {g.name: g.verdict for g in fresh.guards}["data_age"] == "ok"
    assert rows(db, "select guard from mailjet_sync.sync_runs order by run_id") == [("stop",), ("ok",)]
    never = tmp_path / "never.duckdb"
    World([]).build(never)  # nothing extracted: no contact, no membership
    [blind] = plan(db=str(never), audiences=str(source), config=SyncConfiguration()).plans
    assert {g.name: g.detail for g in blind.guards}["data_age"] == (
        "no Mailjet data has been extracted: run extract, then plan"
    )


def test_a_plan_before_any_extract_does_not_say_the_lists_are_missing_from_mailjet(tmp_path: Path) -> None:
    """Only the CRM's tables are loaded: the lists were never read, which is not the same as absent."""
    db = str(tmp_path / "crm-only.duckdb")
    (tmp_path / "profiles.csv").write_text("email,firstname,country\na@x.com,Ann,DE\n", encoding="utf-8")
    (tmp_path / "consent.csv").write_text(
        "email,permission,granted,at,source\na@x.com,email_newsletter,yes,2026-06-14T10:00:00Z,crm\n",
        encoding="utf-8",
    )
    load(db=db, file=str(tmp_path / "profiles.csv"), table="profiles")
    load(db=db, file=str(tmp_path / "consent.csv"), table="consent_events")
    result = plan(db=db, audiences=str(SHIPPED_AUDIENCES), config=SyncConfiguration())
    shown = render(result)
    assert all(item.list_id is None and item.data_as_of is None for item in result.plans)
    assert shown.count("(not read yet: Mailjet was never extracted)") == len(result.plans) == 2
    assert "apply creates it" not in shown


def test_run_ids_grow_and_a_replan_of_the_same_state_plans_the_same(tmp_path: Path) -> None:
    people = [Person("new@x.com"), Person("moved@x.com", member="subscribed", profile=("Ann", "DE"))]
    first, db = run_plan(tmp_path, people)
    source = tmp_path / "audiences.sql"
    second = plan(db=str(db), audiences=str(source), config=SyncConfiguration())
    assert second.plans[0].run_id > first.plans[0].run_id
    assert second.plans[0].actions == first.plans[0].actions
    assert planned(db) == {
        "new@x.com": {("addnoforce", "joined_audience")},
        "moved@x.com": {("update", "properties_changed")},
    }
    # An add carries the contact ID the extract saw: its read-back finds it among the newest memberships.
    [(known,)] = rows(db, "select id from mailjet.contacts where email = 'new@x.com'")
    adds = rows(db, "select distinct contact_id from mailjet_sync.sync_plan where action = 'addnoforce'")
    assert adds == [(known,)]


def test_the_consent_ledger_gathers_every_source(tmp_path: Path) -> None:
    people = [
        Person("crm@x.com", consents=((True, 1), (False, 3))),
        Person("mailjet@x.com", member="subscribed", subscribed=2, consents=()),
        Person("gone@x.com", member="unsubscribed", subscribed=1, unsubscribed=4, consents=((True, 2),)),
        Person("file@x.com", consents=((True, 1),)),
        Person("hook@x.com", member="subscribed", subscribed=1, consents=()),
        Person("tie@x.com", consents=((True, 5), (False, 5))),
    ]
    db = tmp_path / "w.duckdb"
    World(people).build(db)
    with duckdb.connect(str(db)) as con:  # a webhook unsub, in the receiver's table
        columns = ", ".join(f"{c} {t}" for c, t in RAW_TABLES["api"]["events"].sql_columns().items())
        con.execute(f"create table mailjet_api.events ({columns})")
        at = datetime(2026, 1, 8, tzinfo=UTC)
        con.execute(
            "insert into mailjet_api.events (event_key, event, email, time, mj_list_id, _extracted_at) "
            "values ('k1', 'unsub', 'hook@x.com', ?, ?, ?)",
            [at, LIST_ID, at],
        )
    # An export stating file@x.com unsubscribed from the list.
    import_files(
        db, write(tmp_path, "export.csv", "email,status\nfile@x.com,unsubscribed\n"), list_ref="Newsletter"
    )
    source = tmp_path / "audiences.sql"
    source.write_text(audiences_file(), encoding="utf-8")
    plan(db=str(db), audiences=str(source), config=SyncConfiguration())
    current = {
        email: (granted, source_name)
        for email, granted, source_name in rows(
            db,
            "select email, granted, source from mailjet_sync.consent_current "
            "where permission = 'email_newsletter'",
        )
    }
    assert current == {
        "crm@x.com": (False, "crm"),
        "mailjet@x.com": (True, "mailjet"),
        "gone@x.com": (False, "mailjet"),
        "file@x.com": (False, "csv:export.csv"),
        "hook@x.com": (False, "webhook"),
        "tie@x.com": (False, "crm"),  # a grant and a withdrawal at the same instant: the withdrawal wins
    }
    ledger = rows(db, "select count(*) from mailjet_sync.consent_ledger where email = 'hook@x.com'")
    assert ledger == [(2,)]  # the Mailjet subscription and the webhook unsub


def test_consent_events_with_words_and_epoch_seconds(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    World([Person("a@x.com", consents=()), Person("b@x.com", consents=())]).build(db)
    with duckdb.connect(str(db)) as con:
        con.execute("drop table crm.consent_events")
        con.execute(
            "create table crm.consent_events "
            '(email varchar, permission varchar, granted varchar, "at" bigint)'
        )
        con.execute(
            "insert into crm.consent_events values ('A@x.com ', 'Email_Newsletter', 'Yes', 1767225600), "
            "('b@x.com', 'email_newsletter', 'opted_out', 1767225600), "
            "('b@x.com', 'email_newsletter', null, 1)"
        )
    source = tmp_path / "audiences.sql"
    source.write_text(audiences_file(), encoding="utf-8")
    plan(db=str(db), audiences=str(source), config=SyncConfiguration())
    assert rows(
        db, 'select email, granted, source, "at" from mailjet_sync.consent_current order by email'
    ) == [
        ("a@x.com", True, "crm", datetime(2026, 1, 1, tzinfo=UTC)),
        ("b@x.com", False, "crm", datetime(2026, 1, 1, tzinfo=UTC)),  # a null `granted` states nothing
    ]
    with duckdb.connect(str(db)) as con:
        con.execute(
            "insert into crm.consent_events values ('a@x.com', 'email_newsletter', 'Unsubscribe me', 2)"
        )
        con.execute("insert into crm.consent_events values ('b@x.com', 'email_newsletter', 'maybe', 2)")
    with pytest.raises(
        CommandError,
        match=r"`granted` says neither granted nor withdrawn in 'maybe' \(1 row\), "
        r"'unsubscribe me' \(1 row\)",
    ) as caught:
        plan(db=str(db), audiences=str(source), config=SyncConfiguration())
    assert caught.value.exit_code == 2
    with duckdb.connect(str(db)) as con:
        con.execute('delete from crm.consent_events where "at" = 2')
        con.execute('alter table crm.consent_events alter "at" type varchar')
        con.execute(
            "insert into crm.consent_events values ('a@x.com', 'email_newsletter', 'yes', 'last tuesday')"
        )
    with pytest.raises(
        CommandError, match=r"crm.consent_events cannot be read as consent events .*`at` must be"
    ):
        plan(db=str(db), audiences=str(source), config=SyncConfiguration())


def test_a_mistake_in_a_later_audience_writes_no_run(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    World([Person("a@x.com")]).build(db)
    source = tmp_path / "audiences.sql"
    source.write_text(
        audiences_file() + "-- audience: other\n-- list: Other list\n"
        "create or replace view audience_other as select email from crm.missing\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match="audience 'other'"):
        plan(db=str(db), audiences=str(source), config=SyncConfiguration())
    assert rows(db, "select count(*) from mailjet_sync.sync_runs") == [(0,)]


def test_imported_files_keep_unsubscribed_people_off_a_list_but_prove_no_membership(tmp_path: Path) -> None:
    people = [Person("gone@x.com"), Person("kept@x.com"), Person("stale@x.com")]
    db = tmp_path / "w.duckdb"
    World(people).build(db)
    # A list Mailjet does not have (yet), known from an export: its unsubscribe holds gone@x.com back.
    import_files(
        db,
        write(tmp_path, "imported.csv", "email,status\ngone@x.com,unsubscribed\nkept@x.com,subscribed\n"),
        list_ref="Imported",
    )
    # An old export says stale@x.com is subscribed to Newsletter; Mailjet's own listing says otherwise.
    import_files(
        db, write(tmp_path, "old.csv", "email,status\nstale@x.com,subscribed\n"), list_ref="Newsletter"
    )
    source = tmp_path / "audiences.sql"
    source.write_text(audiences_file().replace("-- list: Newsletter", "-- list: Imported"), encoding="utf-8")
    [imported] = plan(db=str(db), audiences=str(source), config=SyncConfiguration()).plans
    assert imported.list_id is None  # apply creates it
    assert planned(db) == {
        "kept@x.com": {("addnoforce", "joined_audience")},
        "stale@x.com": {("addnoforce", "joined_audience")},
    }
    assert imported.held_back == {"unsubscribed_in_mailjet": 1}
    source.write_text(audiences_file(), encoding="utf-8")
    plan(db=str(db), audiences=str(source), config=SyncConfiguration())
    assert planned(db)["stale@x.com"] == {("addnoforce", "joined_audience")}


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    import pipelines.sync.plan as engine
    from pipelines.plan import plan
    original = engine.build_inputs

    def build_then_die(client, diff):
        original(client, diff)
        os.kill(os.getpid(), signal.SIGKILL)  # mid-transaction: data-test rejections already written

    engine.build_inputs = build_then_die
    from pipelines.sync.config import SyncConfiguration
    plan(db=sys.argv[1], audiences=sys.argv[2], config=SyncConfiguration())
    """
)


def test_a_plan_killed_mid_run_leaves_nothing_and_the_rerun_plans(tmp_path: Path) -> None:
    people = [Person("new@x.com"), Person("bad address"), Person("twice@x.com", extra_rows=1)]
    db = tmp_path / "w.duckdb"
    World(people).build(db)
    source = tmp_path / "audiences.sql"
    source.write_text(audiences_file(), encoding="utf-8")
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, str(db), str(source)],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    for name in ("sync_runs", "sync_plan", "sync_rejections"):
        assert rows(db, f"select count(*) from mailjet_sync.{name}") == [(0,)], name
    again = plan(db=str(db), audiences=str(source), config=SyncConfiguration())
    assert again.plans[0].rejected == {"invalid_email": 1, "duplicate_email": 2}
    assert rows(db, "select count(*) from mailjet_sync.sync_runs") == [(1,)]


HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from pipelines.warehouse.writing import writing
    with writing(sys.argv[1], None, "extract"):
        print("holding", flush=True)
        deadline = time.monotonic() + 120
        while not Path(sys.argv[2]).exists() and time.monotonic() < deadline:  # until told to let go
            time.sleep(0.05)
    """
)


def test_a_plan_waits_for_another_writer_then_plans(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    World([Person("new@x.com")]).build(db)
    source = tmp_path / "audiences.sql"
    source.write_text(audiences_file(), encoding="utf-8")
    release = tmp_path / "release"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db), str(release)],
        cwd=Path(__file__).parents[2],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        refused = run_cli(
            ["--db", str(db), "--lock-wait", "0.2", "plan", "--audiences", str(source)], {}, tmp_path
        )
        assert refused.returncode == 1, refused.stderr
        assert "in use by `mailjet-elt extract`" in refused.stderr
        waiting = subprocess.Popen(
            [str(BIN), "--db", str(db), "plan", "--audiences", str(source)],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert waiting.stderr is not None
        said = waiting.stderr.readline()  # the plan says it waits; then the holder lets go
        assert "the database is in use by" in said, said
        release.touch()
        _, err = waiting.communicate(timeout=120)
        assert waiting.returncode == 0, said + err
    finally:
        release.touch()
        holder.wait(timeout=60)
    assert rows(db, "select count(*) from mailjet_sync.sync_runs") == [(1,)]


def test_sync_settings_come_from_dlt_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines.sync.config import resolve_sync_config

    monkeypatch.setenv("SYNC__MAX_REMOVAL_PCT", "25")
    assert resolve_sync_config().max_removal_pct == 25
    for bad, said in (("lots", "cannot use 'lots' as a number"), ("-1", "give a number, 0 or more")):
        monkeypatch.setenv("SYNC__MAX_REMOVAL_PCT", bad)
        with pytest.raises(CommandError, match=said) as caught:
            resolve_sync_config()
        assert caught.value.exit_code == 2
    monkeypatch.setenv("SYNC__MAX_REMOVAL_PCT", "10")
    monkeypatch.setenv("SYNC__BATCH_SIZE", "250")
    assert resolve_sync_config().batch_size == 250
    for bad in ("0", "10001"):
        monkeypatch.setenv("SYNC__BATCH_SIZE", bad)
        with pytest.raises(CommandError, match=f"batch_size={bad}: give a whole number from 1 to 10,000"):
            resolve_sync_config()
