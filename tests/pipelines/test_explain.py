"""`mailjet-elt explain EMAIL` on a warehouse no plan has run on yet, and its usage errors. The whole story
(a CRM withdrawal after a Mailjet subscription, its unsub decision and job) is checked on the demo's database
in tests/pipelines/test_cli.py, and on Postgres in tests/postgres/test_every_command.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

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
