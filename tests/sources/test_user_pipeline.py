"""`mailjet_source()` in a user's own dlt pipeline, configured by nothing but the three `MAILJET__`
environment variables: the script the README shows, run as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import Api, creds
from tests.sources.conftest import every_row, query

SCRIPT = """\
import dlt

from sources.mailjet import mailjet_source

pipeline = dlt.pipeline("my_mailjet", destination="duckdb", dataset_name="mailjet_raw")
info = pipeline.run(mailjet_source().with_resources("contacts", "contact_lists"))
print(info)
"""


def test_plain_dlt_pipeline_loads_the_sandbox_contacts_and_lists(api: Api, tmp_path: Path) -> None:
    (tmp_path / "my_pipeline.py").write_text(SCRIPT, encoding="utf-8")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MAILJET__", "SOURCES__", "RUNTIME__"))}
    env = {
        **clean,
        **creds(api),
        "DLT_DATA_DIR": str(tmp_path / "dlt-data"),  # the pipeline's state stays in this test's folder
        "RUNTIME__DLTHUB_TELEMETRY": "false",  # no network beyond the sandbox
    }
    result = subprocess.run(
        [sys.executable, "my_pipeline.py"],
        env=env,
        cwd=tmp_path,
        check=False,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    assert "my_mailjet" in result.stdout  # the load info the script prints
    db = tmp_path / "my_mailjet.duckdb"
    contacts = every_row(api, "contact")
    lists = every_row(api, "contactslist")
    assert len(contacts) == 300 and lists
    assert query(db, "select count(*), count(distinct id) from mailjet_raw.contacts") == [
        (len(contacts), len(contacts))
    ]
    loaded = {row[0] for row in query(db, "select id from mailjet_raw.contacts")}
    assert loaded == {row["ID"] for row in contacts}
    assert query(db, "select count(*) from mailjet_raw.contact_lists") == [(len(lists),)]
    tables = {
        row[0]
        for row in query(db, "select table_name from duckdb_tables() where schema_name = 'mailjet_raw'")
    }
    # Only the resources asked for: not even `contacts_listed`, made from the contacts' pages.
    assert {t for t in tables if not t.startswith("_dlt")} == {"contacts", "contact_lists"}
