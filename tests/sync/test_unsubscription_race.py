"""An unsubscription made while `apply` runs its removal batches is never erased, and the person is never
subscribed again when they come back into the audience: driven through the sandbox, the person
unsubscribing (as Mailjet's unsubscribe link does) after the first removal job has started."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import destinations.mailjet_lists as lists_destination
from pipelines.apply import apply
from pipelines.extract import extract
from pipelines.load import load
from pipelines.plan import plan
from pipelines.sync.config import SyncConfiguration
from pipelines.webhooks import register
from tests.conftest import Api
from tests.sync.conftest import memberships, rows, write_profiles
from tests.webhooks.receiver import AUTH, start_receiver

LEAVING = 12


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
    [applied] = apply(db=str(db), yes=True, batch_size=3, audiences=source).runs
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
        apply(db=str(db), yes=True, audiences=source)
        assert memberships(api, fans).get(unsubscriber) is True
    assert not rows(
        db,
        f"select action from mailjet_sync.sync_plan where email = '{unsubscriber}' and action = 'addnoforce' "
        f"and run_id > (select min(run_id) from mailjet_sync.sync_runs)",
    )


@pytest.mark.parametrize(
    ("on_exit", "webhooks"),
    [
        pytest.param("remove", True, id="remove-with-webhooks"),
        pytest.param("unsub", False, id="unsub-without-webhooks"),
    ],
)
def test_an_unsubscription_in_a_jobs_own_window_is_never_undone(
    synced: tuple[Api, Path, int, list[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    on_exit: str,
    webhooks: bool,
) -> None:
    """The person clicks a campaign's unsubscribe link after the pre-removal read, before the job runs:
    a removal erases Mailjet's record of it, but the webhook event keeps it; leaving by unsubscribing
    erases nothing. Either way, back in the audience, they are never subscribed again."""
    api, db, fans, people = synced
    source = tmp_path / "audiences.sql"
    source.write_text(source.read_text(encoding="utf-8").replace("on_exit: remove", f"on_exit: {on_exit}"))
    config = SyncConfiguration(max_removal_pct=100)
    monkeypatch.setenv("MAILJET__WEBHOOKS__USERNAME", AUTH[0])
    monkeypatch.setenv("MAILJET__WEBHOOKS__PASSWORD", AUTH[1])
    receiver = start_receiver(db) if webhooks else None
    if receiver is not None:
        register(receiver.server.url, version=2)
    assert api.admin("POST", "campaigns", {"list": "Fans"}).status_code in (200, 201)
    leaving, staying = people[:6], people[6:]
    clicker = leaving[-1]
    write_profiles(tmp_path / "profiles.csv", staying)
    load(db=str(db), file=str(tmp_path / "profiles.csv"), table="profiles")
    extract(db=str(db))
    plan(db=str(db), audiences=str(source), config=config)

    real_start = lists_destination.start_job

    def click_then_start(http: Any, list_id: int, action: Any, batch: Sequence[Any]) -> tuple[str, int]:
        if clicker in {str(r["email"]).lower() for r in batch}:
            reply = api.admin("POST", "events", {"event": "unsub", "email": clicker})
            assert reply.status_code == 200, reply.text
        return real_start(http, list_id, action, batch)

    monkeypatch.setattr(lists_destination, "start_job", click_then_start)
    apply(db=str(db), yes=True, lock_wait=120, audiences=str(source))
    monkeypatch.setattr(lists_destination, "start_job", real_start)
    if receiver is not None:
        assert api.admin("POST", "webhooks/flush").status_code == 200
        receiver.stopped()
    assert (clicker in memberships(api, fans)) is (on_exit == "unsub")

    write_profiles(tmp_path / "profiles.csv", [*staying, clicker])
    load(db=str(db), file=str(tmp_path / "profiles.csv"), table="profiles")
    extract(db=str(db))
    plan(db=str(db), audiences=str(source), config=config)
    apply(db=str(db), yes=True, audiences=str(source))
    assert memberships(api, fans).get(clicker, True) is True, "subscribed again after they unsubscribed"
