"""Rows Mailjet no longer has leave `mailjet_api` only with a listing read whole: full-refresh tables are
replaced by such a listing, and merged (nothing removed) by one read short or shifted."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from pipelines.extract import extract, listing_notes
from pipelines.report import text
from sources.mailjet.paging import ReadOutcome
from tests.conftest import Api
from tests.sources.conftest import every_row, point_at, query


def gdpr_delete(api: Api, contact_id: object) -> None:
    """Delete a contact the way Mailjet's v4 API does, and purge it at once."""
    gone = api.session.delete(f"{api.base}/v4/contacts/{contact_id}", timeout=30)
    assert gone.status_code in (200, 204)
    assert api.admin("POST", "contacts/purge").status_code == 200


def test_notes_name_the_listings_that_were_not_read_whole() -> None:
    listed = {
        "contacts": ReadOutcome(1197, 1200, True),
        "contact_lists": ReadOutcome(5, 5, True),
        "list_recipients": ReadOutcome(1200, 1200, False),
    }
    assert listing_notes(listed) == [
        "contacts: read 1,197 of the 1,200 rows Mailjet counted (rows deleted while the listing was read); "
        "rows Mailjet no longer has are removed on the next run",
        "list_recipients: Mailjet's listing shifted while it was read (rows deleted meanwhile), so a row may "
        "have been skipped; rows Mailjet no longer has are removed on the next run",
    ]
    assert [o.whole for o in listed.values()] == [False, True, False]


def test_a_whole_listing_replaces_the_table(
    small: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(small, monkeypatch)
    db = tmp_path / "mj.duckdb"
    extract(db=str(db), resources="contacts,list_recipients")
    before = query(db, "select count(*) from mailjet_api.contacts")[0][0]
    doomed = [c["ID"] for c in every_row(small, "contact")[:2]]
    for contact_id in doomed:
        gdpr_delete(small, contact_id)
    result = extract(db=str(db), resources="contacts,list_recipients")
    contacts = next(t for t in result.tables if t.name == "contacts")
    assert (contacts.rows, contacts.replaced, contacts.previous) == (before - 2, True, before)
    assert f"{before - 2:,} rows (replaced; {before:,} before)" in text(result)
    kept = {row[0] for row in query(db, "select id from mailjet_api.contacts")}
    assert kept == {c["ID"] for c in every_row(small, "contact")}
    assert query(db, f"select count(*) from mailjet.contacts where id in ({doomed[0]}, {doomed[1]})") == [
        (0,)
    ]
    # Mailjet's own record of the deleted contacts' emails stays, for the views' rules.
    assert query(
        db, f"select count(*) from mailjet_api.contacts_listed where id in ({doomed[0]}, {doomed[1]})"
    ) == [(2,)]


def test_a_listing_that_shifted_while_read_removes_nothing(
    small: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A contact deleted on an already-read page while a new one signs up keeps the count equal but shifts
    every later page by one row: a live contact is then skipped, and must not be removed."""
    point_at(small, monkeypatch, concurrency="1", page_size="100")
    db = tmp_path / "mj.duckdb"
    extract(db=str(db), resources="contacts")
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
        gdpr_delete(small, first_page[5]["ID"])
        assert small.post("contact", {"Email": "newcomer@example.com"}).status_code == 201

    changer = threading.Thread(target=change_mailjet)
    changer.start()
    result = extract(db=str(db), resources="contacts")
    changer.join()
    assert small.admin("PUT", "faults", {"spec": ""}).status_code == 200
    summary = text(result)
    assert "contacts: Mailjet's listing shifted while it was read" in summary, summary
    assert not next(t for t in result.tables if t.name == "contacts").replaced
    live = {c["ID"] for c in every_row(small, "contact")}
    kept = {row[0] for row in query(db, "select id from mailjet.contacts")}
    assert live - kept == set(), "a live contact was removed"
    assert first_page[5]["ID"] in kept  # merged, not replaced: the deleted one goes on the next run

    extract(db=str(db), resources="contacts")
    assert {row[0] for row in query(db, "select id from mailjet.contacts")} == live
