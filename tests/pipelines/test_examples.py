"""The sample exports under examples/ import as the README and examples/README.md say."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.cli import run_command

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
