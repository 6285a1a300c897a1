"""`mailjet-elt demo --destination postgres`: the whole tour, its own sandbox started in-process, into a real
PostgreSQL instead of the demo's DuckDB file."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.demo import DEMO_DB, run_demo
from tests.postgres.conftest import Database

CONTACTS = 100


def test_the_demo_tours_a_postgres_database(
    postgres: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # the demo writes its export and CRM files where it runs
    assert run_demo(contacts=CONTACTS, destination="postgres") == 0
    out = capsys.readouterr().out
    for step in range(1, 9):
        assert f"== {step}/8 " in out
    assert "extract the whole account into the postgres database" in out
    assert "--destination postgres import-csv demo_export.csv --list Newsletter" in out
    assert out.count("read again: every confirmed change is there") == 2, out
    assert "newsletter: 0 changes, service: 0 changes" in out
    assert "-- Campaign performance" in out and "-- Consent now" in out
    assert "mailjet-elt --destination postgres sql" in out
    assert not (tmp_path / DEMO_DB).exists()  # nothing went to a DuckDB file
    # The HTML report, its figures read from the models on Postgres.
    assert "report: wrote demo_report.html" in out and (tmp_path / "demo_report.html").is_file()
    assert "Nothing to show yet" not in (tmp_path / "demo_report.html").read_text()

    # What the report says holds in the database.
    # The sandbox's contacts, and the CRM's new people the apply added to the lists.
    extracted = postgres.rows("select count(*) from mailjet.contacts where _source = 'api'")[0][0]
    assert extracted > CONTACTS
    statuses = postgres.rows(
        "select status, count(*) from mailjet_sync.sync_runs where applied_at is not null group by 1"
    )
    assert statuses == [("applied", 2)]
    done = postgres.rows("select count(*) from mailjet_sync.sync_changelog where outcome = 'done'")
    assert done[0][0] > 0
