"""Rows Mailjet no longer has are removed only after a complete listing that Mailjet's counts agree with."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.extract import RemovalRefused, extract, remove_deleted
from pipelines.report import text
from pipelines.warehouse import open_pipeline
from sources.mailjet.paging import ReadOutcome
from tests.conftest import Api
from tests.sources.conftest import every_row, point_at, query

COUNTS = "select count(*) from mailjet.contacts"


def stamp(db: Path) -> datetime:
    """The `_extracted_at` of the latest extract."""
    value = query(db, "select max(_extracted_at) from mailjet.contacts")[0][0]
    assert isinstance(value, datetime)
    return value


def test_a_removal_mailjet_counts_contradict_is_refused(
    small: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(small, monkeypatch)
    db = tmp_path / "mj.duckdb"
    extract(str(db), None, "contacts,contact_lists", full_refresh=False)
    total = query(db, COUNTS)[0][0]
    # A run that says it read every one of Mailjet's rows, yet none of them carries its stamp (as when a
    # load did not happen): removing "the others" would empty the table.
    other_run = datetime.now(UTC)
    with pytest.raises(RemovalRefused, match=rf"refusing to remove {total:,} rows from mailjet.contacts"):
        listed = {"contacts": ReadOutcome(total, total, True), "contact_lists": ReadOutcome(5, 5, True)}
        remove_deleted(open_pipeline(str(db)), listed, other_run)
    assert query(db, COUNTS)[0][0] == total
    assert query(db, "select count(*) from mailjet.contact_lists")[0][0] == 5  # nothing at all removed


def test_a_listing_read_short_removes_nothing(
    small: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(small, monkeypatch)
    db = tmp_path / "mj.duckdb"
    extract(str(db), None, "contacts", full_refresh=False)
    total = query(db, COUNTS)[0][0]
    short = {"contacts": ReadOutcome(total - 3, total, True)}
    removed, notes = remove_deleted(open_pipeline(str(db)), short, datetime.now(UTC))
    assert removed == {}
    assert notes == [
        f"contacts: read {total - 3:,} of the {total:,} rows Mailjet counted (rows deleted while the listing "
        "was read); rows Mailjet no longer has are removed on the next run"
    ]
    assert query(db, COUNTS)[0][0] == total


def test_a_complete_listing_removes_the_rows_it_did_not_see(
    small: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(small, monkeypatch)
    db = tmp_path / "mj.duckdb"
    extract(str(db), None, "contacts", full_refresh=False)
    total = query(db, COUNTS)[0][0]
    seen = stamp(db)
    with open_pipeline(str(db)).sql_client() as client:  # two rows of an older run
        client.execute_sql(
            "update mailjet.contacts set _extracted_at = _extracted_at - interval 1 day where id in "
            "(select id from mailjet.contacts order by id limit 2)"
        )
    whole = {"contacts": ReadOutcome(total - 2, total - 2, True)}
    removed, notes = remove_deleted(open_pipeline(str(db)), whole, seen)
    assert (removed, notes) == ({"contacts": 2}, [])
    assert query(db, COUNTS)[0][0] == total - 2


def test_a_listing_that_shifted_while_read_removes_nothing(
    small: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A contact deleted on an already-read page while a new one signs up keeps the count equal but shifts
    every later page by one row: a live contact is then skipped, and must not be removed."""
    point_at(small, monkeypatch, concurrency="1", page_size="100")
    db = tmp_path / "mj.duckdb"
    extract(str(db), None, "contacts", full_refresh=False)
    first_page = small.data("contact", Limit=10, Sort="ID")
    assert small.admin("PUT", "faults", {"spec": "latency_ms=150"}).status_code == 200

    assert small.admin("DELETE", "requests").status_code == 204

    def change_mailjet() -> None:
        # Once the count and page 0 are served (12 pages of 13 still to come, 150 ms each), delete a
        # contact of page 0 and add one.
        deadline = time.monotonic() + 60
        while small.admin("GET", "requests").json()["by_endpoint"].get("GET /v3/REST/contact", 0) < 2:
            assert time.monotonic() < deadline, "the extract never read page 0"
            time.sleep(0.02)
        gone = small.session.delete(f"{small.base}/v4/contacts/{first_page[5]['ID']}", timeout=30)
        assert gone.status_code in (200, 204)
        assert small.admin("POST", "contacts/purge").status_code == 200
        assert small.post("contact", {"Email": "newcomer@example.com"}).status_code == 201

    changer = threading.Thread(target=change_mailjet)
    changer.start()
    summary = text(extract(str(db), None, "contacts", full_refresh=False))
    changer.join()
    assert small.admin("PUT", "faults", {"spec": ""}).status_code == 200
    assert "contacts: Mailjet's listing shifted while it was read" in summary, summary
    live = {c["ID"] for c in every_row(small, "contact")}
    kept = {row[0] for row in query(db, "select id from mailjet.contacts")}
    assert live - kept == set(), "a live contact was removed"
