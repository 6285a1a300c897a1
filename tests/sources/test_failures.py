"""Faults, failed runs and bad configuration: same tables as a clean run, or a clear stop."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.errors import CommandError
from pipelines.extract import extract
from sources.mailjet.settings import ENDPOINTS
from tests.conftest import Api, creds, run_cli
from tests.sources.conftest import point_at, query, request_counts

TABLES = tuple(ENDPOINTS)


def differences(a: Path, b: Path) -> dict[str, int]:
    """Rows of each table found in one database and not the other (provenance stamps aside)."""
    out = {}
    with duckdb.connect() as con:
        con.execute(f"attach '{a}' as a (read_only true)")
        con.execute(f"attach '{b}' as b (read_only true)")
        for t in TABLES:
            cols = "* exclude (_extracted_at)"
            one = f"select {cols} from a.mailjet.{t} except all select {cols} from b.mailjet.{t}"
            two = f"select {cols} from b.mailjet.{t} except all select {cols} from a.mailjet.{t}"
            out[t] = con.sql(
                f"select (select count(*) from ({one})) + (select count(*) from ({two}))"
            ).fetchall()[0][0]
    return out


def set_faults(api: Api, spec: str) -> None:
    assert api.admin("PUT", "faults", {"spec": spec}).status_code == 200


def test_faults_give_the_same_tables_as_a_clean_run(
    small: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(small, monkeypatch, concurrency="4", page_size="200")
    set_faults(small, "error_rate=0.2,drop_rate=0.05,storm=0.3,seed=3")
    faulty = tmp_path / "faulty.duckdb"
    extract(db=str(faulty))
    retries = small.admin("GET", "requests").json()["total"]
    set_faults(small, "")
    clean = tmp_path / "clean.duckdb"
    extract(db=str(clean))
    clean_calls = small.admin("GET", "requests").json()["total"] - retries

    assert differences(faulty, clean) == dict.fromkeys(TABLES, 0)
    assert query(clean, "select count(*) from mailjet.contacts")[0][0] == 1200
    assert retries > clean_calls, "the faults did not hit"


def test_a_failed_run_reports_failure_and_the_next_run_completes(
    small: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(small, monkeypatch, max_attempts="2")
    db = tmp_path / "mj.duckdb"
    extract(db=str(db), resources="contacts")
    small.post("contact", {"Email": "late.arrival@example.com"})
    set_faults(small, "error_rate=1")
    with pytest.raises(CommandError) as failed:
        extract(db=str(db))
    assert failed.value.exit_code == 1
    assert "server error 500" in str(failed.value) and "rerun `extract`" in str(failed.value)
    assert query(db, "select count(*) from mailjet.contacts where email = 'late.arrival@example.com'") == [
        (0,)
    ]

    set_faults(small, "")
    extract(db=str(db))
    assert query(db, "select count(*) from mailjet.contacts")[0][0] == 1201
    assert query(db, "select count(*) - count(distinct id) from mailjet.contacts") == [(0,)]


def test_cli_extract_prints_a_summary_and_refused_keys_exit_2(small: Api, tmp_path: Path) -> None:
    env = creds(small)
    ok = run_cli(
        ["--db", "out/mj.duckdb", "extract", "--resources", "contacts,list_recipients"], env, tmp_path
    )
    assert ok.returncode == 0, ok.stderr
    assert "contacts" in ok.stdout and "1,200 rows" in ok.stdout and "API requests:" in ok.stdout
    assert (tmp_path / "out" / "mj.duckdb").exists()

    refused = run_cli(["extract"], {**env, "MAILJET__API_SECRET": "not-the-secret-42"}, tmp_path)
    assert refused.returncode == 2
    assert "refused the API key (401)" in refused.stderr and "MAILJET__API_SECRET" in refused.stderr
    assert "not-the-secret-42" not in refused.stdout + refused.stderr
    assert "Traceback" not in refused.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["extract", "--resources", "contacts,unicorns"], "unknown resource(s) unicorns", id="unknown"
        ),
        pytest.param(
            ["extract", "--resources", "sms_messages"], "MAILJET__SMS_TOKEN", id="sms-without-token"
        ),
        pytest.param(
            ["--db", "mailjet.duckdb", "extract"], "Choose another file name", id="db-named-like-dataset"
        ),
    ],
)
def test_cli_extract_usage_errors_exit_2(small: Api, tmp_path: Path, args: list[str], message: str) -> None:
    env = creds(small)
    result = run_cli(args, env, tmp_path)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("concurrency", "0", "concurrency=0"),
        ("job_poll_seconds", "0", "job_poll_seconds=0.0: must be positive and at most 30"),
        ("job_poll_seconds", "nan", "job_poll_seconds=nan: must be a finite number"),
    ],
)
def test_bad_setting_names_the_setting(
    small: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str, value: str, named: str
) -> None:
    point_at(small, monkeypatch, **{setting: value})
    with pytest.raises(CommandError) as bad:
        extract(db=str(tmp_path / "mj.duckdb"))
    assert bad.value.exit_code == 2 and named in str(bad.value)


def test_timeouts_are_retried_then_reported(
    small: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(small, monkeypatch, timeout_seconds="0.1", max_attempts="3")
    set_faults(small, "latency_ms=400")
    with pytest.raises(CommandError) as failed:
        extract(db=str(tmp_path / "mj.duckdb"), resources="contact_lists")
    assert failed.value.exit_code == 1 and "ReadTimeout after retrying" in str(failed.value)
    assert request_counts(small)["GET /v3/REST/contactslist"] == 3
