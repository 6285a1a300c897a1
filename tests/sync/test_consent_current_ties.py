"""consent_current keeps one row per (email, permission): the latest; on a tie the withdrawal, then the
source, then the list, so that the same ledger gives the same row whatever order its rows come in (the
plan's evidence names that list)."""

from __future__ import annotations

import itertools

import duckdb
import pytest

from pipelines.models import statement, to_sql

pytestmark = pytest.mark.unit

AT = "2026-03-02 10:00:00+00"
# Two lists mapped to one permission, unsubscribed from at the same second; a grant at that second too.
ROWS = [
    ("ann@x.com", "email_newsletter", False, AT, "mailjet", 12),
    ("ann@x.com", "email_newsletter", False, AT, "mailjet", 11),
    ("ann@x.com", "email_newsletter", True, AT, "mailjet", 10),
]


@pytest.mark.parametrize("order", list(itertools.permutations(range(len(ROWS)))))
def test_a_full_tie_gives_the_same_row_in_any_order(order: tuple[int, ...]) -> None:
    con = duckdb.connect()
    con.execute("create schema mailjet_sync")
    con.execute(
        "create table mailjet_sync.consent_ledger (email varchar, permission varchar, granted boolean,"
        ' "at" timestamptz, source varchar, list_id bigint)'
    )
    for i in order:  # the rows in this order, as a scan may meet them
        con.execute("insert into mailjet_sync.consent_ledger values (?, ?, ?, ?, ?, ?)", list(ROWS[i]))
    con.execute(to_sql(statement("consent_current"), "duckdb"))
    rows = con.execute("select granted, source, list_id from mailjet_sync.consent_current").fetchall()
    assert rows == [(False, "mailjet", 11)]
