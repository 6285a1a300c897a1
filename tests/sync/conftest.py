"""Fixtures of the sync tests that drive a sandbox: a list the sync filled."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.apply import apply
from pipelines.extract import extract
from pipelines.load import load
from pipelines.plan import plan
from pipelines.sync.config import SyncConfiguration
from tests.conftest import Api, creds, start

MEMBERS = 30
FANS = (
    "-- audience: fans\n-- list: Fans\n-- on_exit: remove\n"
    "create or replace view audience_fans as select email from crm.profiles\n"
)


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(sql).fetchall()


def memberships(api: Api, list_id: int) -> dict[str, bool]:
    """email -> unsubscribed, for every member of the list, as Mailjet says now."""
    emails = {int(c["ID"]): str(c["Email"]).lower() for c in api.data("contact", Limit=1000)}
    return {
        emails[int(r["ContactID"])]: bool(r["IsUnsubscribed"])
        for r in api.data("listrecipient", ContactsList=list_id, Limit=1000)
    }


def write_profiles(path: Path, emails: Sequence[str]) -> None:
    path.write_text("email\n" + "".join(f"{e}\n" for e in emails), encoding="utf-8")


@pytest.fixture
def synced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Api, Path, int, list[str]]]:
    """A sandbox whose list `Fans` the sync filled with the audience's 30 people; the database; the
    list's ID; the people."""
    app = start(contacts=80)
    api = Api(app)
    for name, value in creds(api).items():
        monkeypatch.setenv(name, value)
    db = tmp_path / "w.duckdb"
    extract(db=str(db))
    people = [
        str(r[0]).lower() for r in rows(db, f"select email from mailjet.contacts order by id limit {MEMBERS}")
    ]
    write_profiles(tmp_path / "profiles.csv", people)
    load(db=str(db), file=str(tmp_path / "profiles.csv"), table="profiles")
    (tmp_path / "audiences.sql").write_text(FANS, encoding="utf-8")
    plan(db=str(db), audiences=str(tmp_path / "audiences.sql"), config=SyncConfiguration())
    [run] = apply(db=str(db), yes=True).runs
    assert set(memberships(api, run.list_id)) == set(people)
    yield api, db, run.list_id, people
    app.stop()
