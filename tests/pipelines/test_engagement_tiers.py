"""`contact_engagement`'s tier at its thresholds, on an in-memory DuckDB: a contact's latest open or click
exactly 30 days before `as_of` (the newest `_extracted_at` of `mailjet.messages`) is `active`, a second
more is `lapsing`; exactly 90 days is `lapsing`, a second more is `dormant`; no open nor click is `never`.
(The tiers against the sandbox's own opens and clicks: tests/pipelines/test_models.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from pipelines.warehouse.publish import model_sql

pytestmark = pytest.mark.unit

AS_OF = datetime(2026, 6, 15, 12, tzinfo=UTC)
SECOND = timedelta(seconds=1)
CONTACTS = {  # contact -> (latest open, latest click, the tier)
    1: (AS_OF - timedelta(days=30), None, "active"),
    2: (AS_OF - timedelta(days=30) - SECOND, None, "lapsing"),
    3: (None, AS_OF - timedelta(days=90), "lapsing"),
    4: (None, AS_OF - timedelta(days=90) - SECOND, "dormant"),
    5: (AS_OF - timedelta(days=200), AS_OF - timedelta(days=2), "active"),  # the later of the two counts
    6: (AS_OF + timedelta(hours=1), None, "active"),  # an open read by a later extract
    7: (None, None, "never"),
}


def test_the_tier_thresholds_are_30_and_90_days_before_the_newest_extract_of_the_messages() -> None:
    with duckdb.connect() as con:
        con.execute("set timezone = 'UTC'")
        con.execute("create schema mailjet")
        con.execute("create table mailjet.contacts (id bigint, email varchar)")
        con.execute(
            "create table mailjet.messages "
            "(contact_id bigint, arrived_at timestamptz, _extracted_at timestamptz)"
        )
        con.execute("create table mailjet.opens (contact_id bigint, opened_at timestamptz)")
        con.execute("create table mailjet.clicks (contact_id bigint, clicked_at timestamptz)")
        for contact, (opened, clicked, _) in CONTACTS.items():
            con.execute("insert into mailjet.contacts values (?, ?)", [contact, f"c{contact}@example.com"])
            con.execute(
                "insert into mailjet.messages values (?, ?, ?)",
                [contact, AS_OF - timedelta(days=300), AS_OF - timedelta(days=contact)],
            )
            if opened:
                con.execute("insert into mailjet.opens values (?, ?)", [contact, opened])
            if clicked:
                con.execute("insert into mailjet.clicks values (?, ?)", [contact, clicked])
        con.execute("insert into mailjet.messages values (null, ?, ?)", [AS_OF, AS_OF])  # the newest extract
        found = con.sql(
            "select contact_id, engagement_tier, as_of from ("
            + model_sql("contact_engagement", "duckdb")
            + ") order by 1"
        ).fetchall()
    assert {c: t for c, t, _ in found} == {c: t for c, (_, _, t) in CONTACTS.items()}
    assert {a for _, _, a in found} == {AS_OF}
