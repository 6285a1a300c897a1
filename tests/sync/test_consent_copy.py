"""The plan's copy of `consent_current`: every audience's rows and every list's consent read from it must
give the plan that reading the view gave (hand-built warehouses, DuckDB, no sandbox)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.plan import plan
from pipelines.sync import ledger
from pipelines.sync.config import SyncConfiguration
from tests.sync.world import LIST_ID, PERMISSION, START, Person, World, planned


@pytest.mark.parametrize(
    "column",
    ["consent_current.email", "mailjet_sync.consent_current.email"],
    ids=["by-table-name", "fully-qualified"],
)
def test_a_view_naming_consent_current_in_its_columns_is_still_read(tmp_path: Path, column: str) -> None:
    """A view reading `consent_current` without an alias, its columns qualified by the table's name, was
    read through the view; its query read from the copy names a table that is no longer there."""
    db = tmp_path / "sync.duckdb"
    World([Person("ann@x.com", consents=((True, 2),))]).build(db)
    source = tmp_path / "audiences.sql"
    qualifier = column.rsplit(".", 1)[0]
    source.write_text(
        f"-- audience: news\n-- list: Newsletter\n-- permission: {PERMISSION}\n-- on_exit: keep\n"
        f"create or replace view audience_news as select {column} from consent_current "
        f"where {qualifier}.permission = '{PERMISSION}' and {qualifier}.granted\n",
        encoding="utf-8",
    )
    plan(db=str(db), audiences=str(source), config=SyncConfiguration())
    assert planned(db) == {"ann@x.com": {("addnoforce", "joined_audience")}}


def test_a_membership_one_audience_releases_is_the_persons_grant_for_the_next_audience(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`news` (list 10) releases x@x.com, who subscribed again by themselves (day 20) after the sync's add
    (day 5): from then on that subscription is their grant of the permission, newer than their CRM
    withdrawal (day 10). `other` (list 11, same permission), planned next in the same plan, read it so
    through `consent_current`; from the copy taken before the release it sees the withdrawal and unsubs a
    person whose own latest act was to subscribe (an unsub no add can undo)."""
    db = tmp_path / "sync.duckdb"
    x = Person("x@x.com", member="subscribed", subscribed=20, consents=((False, 10),), managed=True)
    World([x]).build(db)
    with duckdb.connect(str(db)) as con:
        con.execute(  # the sync's add showed in Mailjet on day 5; Mailjet now says day 20
            "update mailjet_sync.sync_snapshot set managed_since = ?, mailjet_subscribed_at = ?",
            [START.replace(day=5), START.replace(day=5)],
        )
        con.execute(  # a member of list 11 since day 1, not by the sync
            "insert into mailjet_api.list_recipients (id, contact_id, list_id, list_name, is_unsubscribed, "
            "is_active, subscribed_at, unsubscribed_at, _extracted_at) "
            "values (99, 1, ?, 'Other list', false, true, ?, null, now())",
            [LIST_ID + 1, START.replace(day=2)],
        )
    source = two_audiences(tmp_path)
    copies = counted_copies(monkeypatch)
    result = plan(db=str(db), audiences=str(source), config=SyncConfiguration())
    assert len(copies) == 2  # the second run's copy made again: the first released a membership
    with duckdb.connect(str(db), read_only=True) as con:
        released = con.sql("select last_action from mailjet_sync.sync_snapshot").fetchall()
        current = con.sql(
            "select granted, source from mailjet_sync.consent_current where email = 'x@x.com'"
        ).fetchall()
    assert released == [("released",)] and current == [(True, "mailjet")]  # the person's grant now
    other = next(p for p in result.plans if p.audience == "other")
    assert other.count("unsub") == 0, (other.actions, planned(db))


def counted_copies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each copy of `consent_current` the plan makes, counted."""
    copies: list[str] = []
    made = ledger.copy_consent

    def counted(client: Any, dialect: str) -> None:
        copies.append(dialect)
        made(client, dialect)

    monkeypatch.setattr(ledger, "copy_consent", counted)
    return copies


def test_the_copy_is_made_once_per_plan_when_no_run_changes_what_the_ledger_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two audiences of one permission, on two lists; the sync's membership of ann stays (she is still
    in Mailjet as the sync added her): the second run reads the copy the first made, and both plan as
    they would from a copy of their own."""
    db = tmp_path / "sync.duckdb"
    ann = Person("ann@x.com", member="subscribed", subscribed=5, consents=((True, 2),), managed=True)
    World([ann, Person("bob@x.com", consents=((True, 3),))]).build(db)
    source = two_audiences(tmp_path)
    copies = counted_copies(monkeypatch)
    result = plan(db=str(db), audiences=str(source), config=SyncConfiguration())
    assert copies == ["duckdb"]
    news, other = (next(p for p in result.plans if p.audience == name) for name in ("news", "other"))
    assert news.count("addnoforce") == 1 and other.count("addnoforce") == 2, planned(db)


def two_audiences(folder: Path) -> Path:
    """An audiences file: `news` (list Newsletter) and `other` (list Other list), both of PERMISSION,
    each every CRM profile."""
    source = folder / "audiences.sql"
    source.write_text(
        f"-- audience: news\n-- list: Newsletter\n-- permission: {PERMISSION}\n-- on_exit: keep\n"
        "create or replace view audience_news as select email from crm.profiles\n\n"
        f"-- audience: other\n-- list: Other list\n-- permission: {PERMISSION}\n-- on_exit: keep\n"
        "create or replace view audience_other as select email from crm.profiles\n",
        encoding="utf-8",
    )
    return source
