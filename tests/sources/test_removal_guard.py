"""Rows Mailjet no longer has are removed only after a complete listing that Mailjet's counts agree with."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.extract import RemovalRefused, extract, remove_deleted
from pipelines.warehouse import open_pipeline
from tests.conftest import Api
from tests.sources.conftest import point_at, query

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
        remove_deleted(
            open_pipeline(str(db)), {"contacts": (total, total), "contact_lists": (5, 5)}, other_run
        )
    assert query(db, COUNTS)[0][0] == total
    assert query(db, "select count(*) from mailjet.contact_lists")[0][0] == 5  # nothing at all removed


def test_a_listing_read_short_removes_nothing(
    small: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(small, monkeypatch)
    db = tmp_path / "mj.duckdb"
    extract(str(db), None, "contacts", full_refresh=False)
    total = query(db, COUNTS)[0][0]
    removed, notes = remove_deleted(
        open_pipeline(str(db)), {"contacts": (total - 3, total)}, datetime.now(UTC)
    )
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
    removed, notes = remove_deleted(open_pipeline(str(db)), {"contacts": (total - 2, total - 2)}, seen)
    assert (removed, notes) == ({"contacts": 2}, [])
    assert query(db, COUNTS)[0][0] == total - 2
