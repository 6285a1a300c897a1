"""One `[mailjet]` configuration: `mailjet_source()` called bare, in a user's own dlt pipeline, reads the
same section as the CLI, from the environment and from `.dlt/*.toml`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sources.mailjet import mailjet_source
from sources.mailjet.exceptions import MailjetConfigError
from tests.conftest import Api, creds
from tests.sources.conftest import every_row, query, requests_log

# A plain dlt pipeline script, as a user writes one: no mailjet-elt command, no configuration in code.
SCRIPT = """\
import dlt

from sources.mailjet import mailjet_source

pipeline = dlt.pipeline("my_mailjet", destination="duckdb", dataset_name="mailjet_api")
info = pipeline.run(mailjet_source().with_resources("contacts", "contact_lists"))
print(info)
"""


def test_mailjet_source_in_a_plain_dlt_pipeline_reads_the_mailjet_section(api: Api, tmp_path: Path) -> None:
    (tmp_path / "pipeline.py").write_text(SCRIPT, encoding="utf-8")
    (tmp_path / ".dlt").mkdir()
    (tmp_path / ".dlt" / "config.toml").write_text(
        "[mailjet]\npage_size = 100\n\n[runtime]\ndlthub_telemetry = false\n", encoding="utf-8"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MAILJET__", "SOURCES__", "RUNTIME__"))}
    env = {**clean, **creds(api), "DLT_DATA_DIR": str(tmp_path / "dlt-data")}
    result = subprocess.run(
        [sys.executable, "pipeline.py"],
        env=env,
        cwd=tmp_path,
        check=False,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    assert api.app.config.api_secret not in result.stdout + result.stderr
    pages = [r for r in requests_log(api) if r["path"] == "/v3/REST/contact" and "limit" in r["params"]]
    assert pages and {r["params"]["limit"] for r in pages} == {"100"}  # page_size from .dlt/config.toml
    db = tmp_path / "my_mailjet.duckdb"
    contacts = every_row(api, "contact")
    assert query(db, "select count(*), count(distinct id) from mailjet_api.contacts") == [(300, 300)]
    assert {row[0] for row in query(db, "select id from mailjet_api.contacts")} == {c["ID"] for c in contacts}
    assert query(db, "select count(*) from mailjet_api.contact_lists") == [(5,)]
    tables = {
        r[0] for r in query(db, "select table_name from duckdb_tables() where schema_name = 'mailjet_api'")
    }
    # Only the resources asked for: not even `contacts_listed`, made from the contacts' pages.
    assert {t for t in tables if not t.startswith("_dlt")} == {"contacts", "contact_lists"}


def test_mailjet_source_reads_no_other_section(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("MAILJET__", "SOURCES__")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MAILJET__API_KEY", "key")
    monkeypatch.setenv("SOURCES__MAILJET__API_SECRET", "secret")  # dlt's usual place for source arguments
    with pytest.raises(MailjetConfigError) as missing:
        mailjet_source()
    assert "missing Mailjet setting(s): api_secret" in str(missing.value)
    assert "MAILJET__API_SECRET" in str(missing.value)
