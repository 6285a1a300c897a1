"""`mailjet_lists` in a user's own dlt pipeline: no arguments, the `[mailjet]` settings from dlt's
providers (here the MAILJET__ variables), rows without the optional columns. The script is the README's."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import Api, creds

SCRIPT = textwrap.dedent(
    """
    import dlt
    from destinations.mailjet_lists import mailjet_lists

    rows = [
        {"run_id": 1, "audience": "vip", "list_id": 1001,
         "email": "ann@example.com", "reason": "joined_audience"},
    ]
    pipeline = dlt.pipeline("to_mailjet", destination=mailjet_lists())
    pipeline.run(rows, table_name="addnoforce")
    """
)


def test_a_plain_dlt_pipeline_adds_a_contact_to_a_list_with_settings_from_the_environment(
    api: Api, tmp_path: Path
) -> None:
    assert api.get("contact/ann@example.com").status_code == 404  # a contact Mailjet does not have yet
    script = tmp_path / "to_mailjet.py"
    script.write_text(SCRIPT, encoding="utf-8")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MAILJET__")}
    done = subprocess.run(
        [sys.executable, str(script)],
        env={**clean, **creds(api), "DLT_DATA_DIR": str(tmp_path / "dlt")},
        cwd=tmp_path,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    [contact] = api.data("contact/ann@example.com")
    [member] = api.data("listrecipient", ContactsList=1001, ContactEmail="ann@example.com")
    assert member["ContactID"] == contact["ID"] and member["IsUnsubscribed"] is False
