"""The sample exports under examples/ import as the README and examples/README.md say."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.cli import run_command
from sandbox import SandboxApp, SandboxConfig
from tests.conftest import Api, creds

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_sample_exports_import_as_described(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run_command(["import-csv", str(EXAMPLES / "contacts.csv")]) == 0
    out = capsys.readouterr().out
    assert "contacts 5 · property values 19" in out
    assert "rejected 2: 1 invalid, 1 duplicate email (first row kept)" in out
    assert run_command(["import-csv", str(EXAMPLES / "newsletter.csv"), "--list", "Newsletter"]) == 0
    out = capsys.readouterr().out
    assert "UTF-8 (with byte-order mark), semicolon-separated" in out
    assert "memberships of list Newsletter 3" in out
    query = (
        "select c.email, r.is_unsubscribed from mailjet.list_recipients r "
        "join mailjet.contacts c on c.id = r.contact_id order by c.email"
    )
    assert run_command(["sql", query, "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "email,is_unsubscribed",
        "ada.lovelace@example.com,false",
        "grace.hopper@example.com,true",
        "katherine.johnson@example.com,false",
    ]


def test_the_sample_crm_files_plan_what_the_readme_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Step 6 of "Try it by hand": the sample CRM files against the sandbox as `mailjet-elt sandbox` seeds it
    by default (1,000 contacts, seed 42, today) plan exactly the changes the README tells of."""
    defaults = SandboxConfig(port=0)
    assert (defaults.contacts, defaults.seed) == (1000, 42)  # what `mailjet-elt sandbox` seeds
    monkeypatch.chdir(tmp_path)
    with SandboxApp(defaults) as app:
        for name, value in creds(Api(app)).items():
            monkeypatch.setenv(name, value)
        assert run_command(["extract"]) == 0
        assert run_command(["import-csv", str(EXAMPLES / "contacts.csv")]) == 0
        assert run_command(["import-csv", str(EXAMPLES / "newsletter.csv"), "--list", "Newsletter"]) == 0
        assert run_command(["load", str(EXAMPLES / "profiles.csv"), "--table", "profiles"]) == 0
        assert run_command(["load", str(EXAMPLES / "consent.csv"), "--table", "consent_events"]) == 0
        assert run_command(["plan"]) == 0
    capsys.readouterr()
    with duckdb.connect("mailjet_elt.duckdb", read_only=True) as con:
        planned = con.sql("select audience, action, email from mailjet_sync.sync_plan order by all")
        rows = planned.fetchall()
    assert rows == [
        ("newsletter", "addnoforce", "ada.lovelace@example.com"),
        ("newsletter", "addnoforce", "diego.richard.2@example.org"),
        ("newsletter", "addnoforce", "elias.bernard.1@example.com"),
        ("newsletter", "addnoforce", "nina.simone@example.com"),
        ("newsletter", "unsub", "astrid.morel.5@test.example.eu"),
        ("newsletter", "update", "freya.russo.11@example.com"),
        ("service", "addnoforce", "ada.lovelace@example.com"),
        ("service", "addnoforce", "nina.simone@example.com"),
    ]
