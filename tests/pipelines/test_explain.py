"""`mailjet-elt explain EMAIL` on a warehouse no plan has run on yet, and its usage errors. The whole story
(a CRM withdrawal after a Mailjet subscription, its unsub decision and job) is checked on the demo's database
in tests/pipelines/test_cli.py, and on Postgres in tests/postgres/test_every_command.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.conftest import run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding one imported export and nothing else: no extract, no plan."""
    folder = tmp_path_factory.mktemp("explain")
    shutil.copy(EXAMPLES / "contacts.csv", folder / "contacts.csv")
    done = run_cli(["--db", "w.duckdb", "import-csv", "contacts.csv"], {}, folder)
    assert done.returncode == 0, done.stderr
    return folder


def test_before_any_plan_the_sync_parts_are_empty_and_the_contact_is_found(imported: Path) -> None:
    # Another case and blanks around it: compared as the sync normalizes addresses.
    shown = run_cli(["--db", "w.duckdb", "explain", " Grace.Hopper@Example.com\t"], {}, imported)
    assert shown.returncode == 0, shown.stderr
    assert (
        "grace.hopper@example.com  Grace Hopper" in shown.stdout and "from csv:contacts.csv" in shown.stdout
    )
    assert "none (the ledger is made by the first `plan`)" in shown.stdout
    as_json = run_cli(
        ["--db", "w.duckdb", "explain", "grace.hopper@example.com", "--format", "json"], {}, imported
    )
    assert as_json.returncode == 0, as_json.stderr
    story = json.loads(as_json.stdout)
    assert story["result"] == "explain" and story["exit_code"] == 0
    assert [c["email"] for c in story["contacts"]] == ["grace.hopper@example.com"]
    assert story["consent"] == story["decisions"] == story["rejections"] == story["memberships"] == []
    assert story["engagement"]["messages"] == 0


def test_someone_the_warehouse_does_not_know_is_said_so(imported: Path) -> None:
    shown = run_cli(["--db", "w.duckdb", "explain", "nobody@example.com"], {}, imported)
    assert shown.returncode == 0, shown.stderr
    assert "Nothing in this warehouse is about this address" in shown.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--db", "missing.duckdb", "explain", "a@example.com"], "no database at"),
        (["--db", "w.duckdb", "explain", "  "], "explain needs an email address"),
    ],
)
def test_usage_errors_exit_2_naming_the_fix(imported: Path, args: list[str], message: str) -> None:
    refused = run_cli(args, {}, imported)
    assert refused.returncode == 2 and message in refused.stderr and "Traceback" not in refused.stderr


def test_repeated_and_unreadable_consent_in_any_time_zone_then_a_stale_ledger(tmp_path: Path) -> None:
    """The same CRM event twice is in force once; an event whose permission is blank is shown, never
    crashes; times are UTC whatever the machine's zone; a consent table loaded again without a column the
    sync's views read is refused naming `plan`, not with a traceback."""
    shutil.copy(EXAMPLES / "contacts.csv", tmp_path / "contacts.csv")
    (tmp_path / "consent.csv").write_text(
        "email,permission,granted,at,source\n"
        "grace.hopper@example.com,email_newsletter,true,2026-10-02 09:15:00,form\n"
        "grace.hopper@example.com,email_newsletter,true,2026-10-02 09:15:00,form\n"
        "grace.hopper@example.com, ,false,2026-10-03 09:15:00,form\n",
        encoding="utf-8",
    )
    steps = [
        ["import-csv", "contacts.csv", "--list", "Newsletter"],
        ["load", str(EXAMPLES / "profiles.csv"), "--table", "profiles"],
        ["load", "consent.csv", "--table", "consent_events"],
        ["plan", "--audiences", str(EXAMPLES.parent / "audiences.sql")],
    ]
    for step in steps:
        done = run_cli(["--db", "w.duckdb", *step], {}, tmp_path)
        assert done.returncode in (0, 3), done.stderr  # 3: a guard stops the plan; its views are made
    shown = run_cli(
        ["--db", "w.duckdb", "explain", "grace.hopper@example.com", "--format", "json"], {}, tmp_path
    )
    assert shown.returncode == 0, shown.stderr
    consent = json.loads(shown.stdout)["consent"]
    granted = [e for e in consent if e["permission"] == "email_newsletter"]
    assert len(granted) == 2 and [e["in_force"] for e in granted].count(True) == 1
    assert [(e["permission"], e["granted"]) for e in consent if e["permission"] != "email_newsletter"] == [
        (None, False)
    ]
    utc = run_cli(["--db", "w.duckdb", "explain", "grace.hopper@example.com"], {}, tmp_path)
    elsewhere = run_cli(
        ["--db", "w.duckdb", "explain", "grace.hopper@example.com"], {"TZ": "Pacific/Auckland"}, tmp_path
    )
    assert utc.returncode == elsewhere.returncode == 0, utc.stderr + elsewhere.stderr
    assert "2026-10-02 09:15 UTC  email_newsletter" in utc.stdout and "(no permission)" in utc.stdout
    assert elsewhere.stdout == utc.stdout
    # A database last planned by an earlier version has no `consent_lists` view: the ledger's own view is
    # read whole instead, and the story is the same.
    shutil.copy(tmp_path / "w.duckdb", tmp_path / "older.duckdb")
    with duckdb.connect(str(tmp_path / "older.duckdb")) as con:  # its ledger view reads no consent_lists
        con.execute("create table mailjet_sync.ledger_rows as select * from mailjet_sync.consent_ledger")
        con.execute("create or replace view mailjet_sync.consent_ledger as from mailjet_sync.ledger_rows")
        con.execute("drop view mailjet_sync.consent_lists")
    older = run_cli(["--db", "older.duckdb", "explain", "grace.hopper@example.com"], {}, tmp_path)
    assert older.returncode == 0, older.stderr
    assert older.stdout == utc.stdout

    (tmp_path / "consent.csv").write_text(
        "email,permission,granted,at\ngrace.hopper@example.com,email_newsletter,true,2026-10-02 09:15:00\n",
        encoding="utf-8",
    )
    reloaded = run_cli(["--db", "w.duckdb", "load", "consent.csv", "--table", "consent_events"], {}, tmp_path)
    assert reloaded.returncode == 0, reloaded.stderr
    stale = run_cli(["--db", "w.duckdb", "explain", "grace.hopper@example.com"], {}, tmp_path)
    assert stale.returncode == 1 and "`mailjet-elt plan` makes those views again" in stale.stderr
    assert "Traceback" not in stale.stderr
