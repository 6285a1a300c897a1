"""A database written when `sms_messages.id` and `campaign_drafts.ax_testing` were integers: the next
extract makes them text in place, keeps every value, and loads the rows the API now sends as text."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import dlt
import duckdb
import pytest

from pipelines.extract import extract
from pipelines.warehouse import open_pipeline
from sources.mailjet import schema
from tests.conftest import Api
from tests.sources.conftest import point_at, query, send_sms


def as_integer(table: schema.Table, column: str) -> schema.Table:
    """`table` as an earlier version declared it, `column` an integer."""
    columns = tuple(replace(c, kind="id") if c.name == column else c for c in table.columns)
    return replace(table, columns=columns)


def earlier_version(db: Path) -> None:
    """The two tables as an earlier version typed and loaded them, each with a row Mailjet no longer
    lists."""
    at = datetime(2026, 1, 1, tzinfo=UTC)
    sms = as_integer(schema.SMS_MESSAGES, "id")
    drafts = as_integer(schema.CAMPAIGN_DRAFTS, "ax_testing")
    old_sms = sms.to_arrow([{"MessageId": "7", "From": "MJPilot", "CreationTS": 1767225600}], at)
    old_draft = drafts.to_arrow([{"ID": 1, "Title": "Old draft", "AXTesting": 3}], at)
    pipeline = open_pipeline(str(db))
    pipeline.run(
        [sms.resource(iter([old_sms])), drafts.resource(iter([old_draft]))], schema=dlt.Schema("mailjet")
    )
    assert pipeline.default_schema.tables["sms_messages"]["columns"]["id"]["data_type"] == "bigint"


@pytest.mark.parametrize("killed", [False, True], ids=["first-run", "killed-after-altering"])
def test_integer_columns_become_text_and_keep_their_values(
    killed: bool, api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "mj.duckdb"
    earlier_version(db)
    if killed:  # what a run killed once the table was altered, before the schema said so, leaves
        with duckdb.connect(str(db)) as con:
            con.execute("alter table mailjet_api.sms_messages alter column id type varchar")
    assert api.admin("PUT", "quirks", {"spec": "sms-uuid-ids,draft-axtesting-object"}).status_code == 200
    sent = send_sms(api, "+33600000001")
    point_at(api, monkeypatch, sms_token=api.app.config.sms_token)
    result = extract(db=str(db))
    assert "sms_messages.id is text now (it was a number); every value was kept" in result.notes
    assert "campaign_drafts.ax_testing is text now (it was a number); every value was kept" in result.notes
    types = dict(
        query(
            db,
            "select table_name || '.' || column_name, data_type from information_schema.columns "
            "where table_schema = 'mailjet_api' and column_name in ('id', 'ax_testing') "
            "and table_name in ('sms_messages', 'campaign_drafts')",
        )
    )
    assert types == {
        "sms_messages.id": "VARCHAR",
        "campaign_drafts.id": "BIGINT",
        "campaign_drafts.ax_testing": "VARCHAR",
    }
    ids = {i for (i,) in query(db, "select id from mailjet.sms_messages")}
    assert "7" in ids  # the earlier row, kept
    assert sent["MessageId"] in ids and len(sent["MessageId"]) == 36  # a UUID, loaded
    # The draft Mailjet no longer lists is gone with the replace; every listed one has its object.
    assert {a for (a,) in query(db, "select ax_testing from mailjet.campaign_drafts")} == {'{"ID":0}'}
    # A second run has nothing left to retype.
    assert not [n for n in extract(db=str(db)).notes if "is text now" in n]
