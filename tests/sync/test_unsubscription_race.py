"""An unsubscription made while `apply` runs its removal batches is never erased, and the person is never
subscribed again when they come back into the audience: driven through the sandbox, the person
unsubscribing (as Mailjet's unsubscribe link does) after the first removal job has started."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pytest

import destinations.mailjet_lists as lists_destination
from pipelines.apply import apply
from pipelines.extract import extract
from pipelines.load import load
from pipelines.plan import plan
from pipelines.sync.config import SyncConfiguration
from tests.conftest import Api, creds, start

MEMBERS = 30
LEAVING = 12
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


def test_an_unsubscription_during_removal_batches_is_kept_and_never_undone(
    synced: tuple[Api, Path, int, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api, db, fans, people = synced
    source = str(tmp_path / "audiences.sql")
    config = SyncConfiguration(max_removal_pct=100)
    leaving, staying = people[:LEAVING], people[LEAVING:]
    write_profiles(tmp_path / "profiles.csv", staying)
    load(db=str(db), file=str(tmp_path / "profiles.csv"), table="profiles")
    extract(db=str(db))
    plan(db=str(db), audiences=source, config=config)

    # The person unsubscribes (Mailjet's link) once the first removal job is under way: they are in a
    # later batch.
    real_start = lists_destination.start_job
    first: list[str] = []

    def start_and_unsubscribe(http: Any, list_id: int, action: Any, batch: Sequence[Any]) -> tuple[str, int]:
        started = real_start(http, list_id, action, batch)
        if action == "remove" and not first:
            first.extend(str(r["email"]).lower() for r in batch)
            later = next(e for e in leaving if e not in first)
            first.append(later)
            answer = api.post(f"contactslist/{list_id}/managecontact", {"Email": later, "Action": "unsub"})
            assert answer.status_code == 201, answer.text
        return started

    monkeypatch.setattr(lists_destination, "start_job", start_and_unsubscribe)
    [applied] = apply(db=str(db), yes=True, batch_size=3).runs
    unsubscriber = first[-1]
    assert len(first) == 4  # three removed in the first job; the fourth unsubscribed meanwhile

    now = memberships(api, fans)
    assert now.get(unsubscriber) is True, "the unsubscription was erased by a later removal batch"
    assert not set(leaving) - {unsubscriber} & set(now)  # everyone else left the list
    assert applied.skipped == 1
    assert rows(
        db,
        "select outcome from mailjet_sync.sync_changelog "
        f"where email = '{unsubscriber}' and action = 'remove'",
    ) == [("skipped",)]

    # They come back into the audience: the next runs never subscribe them again.
    monkeypatch.setattr(lists_destination, "start_job", real_start)
    write_profiles(tmp_path / "profiles.csv", [*staying, unsubscriber])
    load(db=str(db), file=str(tmp_path / "profiles.csv"), table="profiles")
    for _ in range(2):
        extract(db=str(db))
        plan(db=str(db), audiences=source, config=config)
        apply(db=str(db), yes=True)
        assert memberships(api, fans).get(unsubscriber) is True
    assert not rows(
        db,
        f"select action from mailjet_sync.sync_plan where email = '{unsubscriber}' and action = 'addnoforce' "
        f"and run_id > (select min(run_id) from mailjet_sync.sync_runs)",
    )
