"""Which runs an apply may send, against a seeded sandbox: only audiences of the current file, never a
plan made before another apply changed its list, `run` as one unit under the writer lock, and guards that
count what earlier runs removed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.apply import apply
from pipelines.errors import CommandError
from pipelines.plan import plan
from pipelines.sync.config import SyncConfiguration
from tests.conftest import Api, creds
from tests.sync.conftest import SANDBOX_CONTACTS

ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def sandbox_settings() -> dict[str, Any]:
    """The worlds of this module hold no messages, which the sync never reads (nor its tests here): each
    extract reads the contacts, lists and memberships without two years of campaigns and events."""
    return {"contacts": SANDBOX_CONTACTS, "messages": 0}


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(sql).fetchall()


# The command line of a writer that tries the lock every millisecond instead of every 0.2 s: it gets in at
# the first moment the lock is free, as the unluckiest of schedules would let it.
EAGER = (
    "import sys; import pipelines.warehouse.lock as lock; lock.POLL_SECONDS = 0.001; "
    "from pipelines.cli import main; main(sys.argv[1:])"
)


def cli(api: Api, db: Path, *args: str, eager: bool = False) -> subprocess.Popen[str]:
    """`mailjet-elt --db DB ARGS` started against the sandbox (`eager`: waiting as EAGER does)."""
    program = ["-c", EAGER] if eager else ["-m", "pipelines.cli"]
    return subprocess.Popen(
        [sys.executable, *program, "--db", str(db), *args],
        cwd=ROOT,
        env={**os.environ, **creds(api)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_runs_at_once_send_each_change_once(world: tuple[Api, Path]) -> None:
    api, db = world
    lock = db.parent / f".{db.name}.dlt" / "mailjet_elt.lock"
    first = cli(api, db, "--lock-wait", "600", "run", "--yes")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and str(first.pid) not in lock.read_text(encoding="utf-8"):
        time.sleep(0.01)  # the second starts once the first holds the database
    second = cli(api, db, "--lock-wait", "600", "run", "--yes", eager=True)
    outcomes = [(child.wait(timeout=600), child.communicate()) for child in (first, second)]
    assert [code for code, _ in outcomes] == [0, 0], [err[-2000:] for _, (_, err) in outcomes]
    sent = rows(
        db,
        "select count(*), count(distinct (list_id, email, action)) from mailjet_sync.sync_changelog "
        "where outcome = 'done'",
    )
    assert sent[0][0] > 0 and sent[0][0] == sent[0][1], "a change was sent twice"
    jobs = rows(db, "select count(*), count(distinct (list_id, action)) from mailjet_sync.sync_jobs")
    assert jobs[0][0] == jobs[0][1], "a bulk job was started twice for a list and action"


SHIPPED = ROOT / "audiences.sql"


def without_service(path: Path) -> None:
    """The shipped audiences file without its `service` audience, written at `path`."""
    text = SHIPPED.read_text(encoding="utf-8")
    path.write_text(text[: text.index("-- audience: service")], encoding="utf-8")


def test_a_plan_of_an_audience_removed_from_the_file_is_superseded_and_never_sent(
    world: tuple[Api, Path], tmp_path: Path
) -> None:
    from pipelines.report import render
    from pipelines.run import run

    _, db = world
    source = tmp_path / "audiences.sql"
    source.write_text(SHIPPED.read_text(encoding="utf-8"), encoding="utf-8")
    first = plan(db=str(db), audiences=str(source), config=SyncConfiguration())
    (service,) = [p.run_id for p in first.plans if p.audience == "service"]
    without_service(source)  # the audience is removed before its plan was applied

    result = run(db=str(db), audiences=str(source), yes=True)
    assert result.exit_code == 0 and [r.audience for r in result.apply.runs] == ["newsletter"]
    assert [n for n in result.plan.superseded if n.startswith("service: no longer in the audiences file")]
    assert "service: no longer in the audiences file" in render(result.plan)
    assert json.loads(render(result.plan, "json"))["superseded"] == result.plan.superseded
    assert rows(db, f"select status from mailjet_sync.sync_runs where run_id = {service}") == [
        ("superseded",)
    ]
    assert rows(db, f"select count(*) from mailjet_sync.sync_changelog where run_id = {service}") == [(0,)]
    # The next run of the same file has nothing left, and says nothing more of it.
    again = run(db=str(db), audiences=str(source), yes=True)
    assert again.exit_code == 0 and again.plan.superseded == [] and again.apply.jobs == 0


def test_apply_sends_only_the_audiences_of_its_file(world: tuple[Api, Path], tmp_path: Path) -> None:
    _, db = world
    source = tmp_path / "audiences.sql"
    source.write_text(SHIPPED.read_text(encoding="utf-8"), encoding="utf-8")
    plan(db=str(db), audiences=str(source), config=SyncConfiguration())
    without_service(source)
    result = apply(db=str(db), audiences=str(source), yes=True)
    assert [r.audience for r in result.runs] == ["newsletter"]
    assert rows(db, "select audience, status from mailjet_sync.sync_runs order by audience") == [
        ("newsletter", "applied"),
        ("service", "planned"),
    ]
    with pytest.raises(CommandError, match="defines no such audience") as caught:
        apply(db=str(db), audiences=str(source), audience="service", yes=True)
    assert caught.value.exit_code == 2


def test_a_plan_made_from_data_read_before_another_apply_ended_is_refused(world: tuple[Api, Path]) -> None:
    """The race of two schedules: one plans from an extract, another applies, then the first applies."""
    from pipelines.run import run

    api, db = world
    plan(db=str(db), config=SyncConfiguration())
    assert apply(db=str(db), yes=True).jobs > 0
    plan(db=str(db), config=SyncConfiguration())  # from the extract made before that apply
    assert api.admin("DELETE", "requests").status_code == 204
    with pytest.raises(CommandError, match="from before another apply changed its list") as caught:
        apply(db=str(db), yes=True, force=True)
    assert caught.value.exit_code == 3 and "`mailjet-elt run`" in str(caught.value)
    writes = [r for r in api.admin("GET", "requests/log").json()["requests"] if r["method"] != "GET"]
    assert writes == []  # nothing was sent
    # What the message says clears it: a new extract shows the apply's changes, so nothing is sent again.
    cleared = run(db=str(db), yes=True)
    assert cleared.exit_code == 0 and cleared.apply.jobs == 0


def withdraw(db: Path, tmp_path: Path, emails: list[str], name: str) -> None:
    """Newsletter withdrawals for `emails`, appended to crm.consent_events."""
    from pipelines.load import load

    path = tmp_path / f"{name}.csv"
    path.write_text(
        "email,permission,granted,at,source\n"
        + "".join(f"{e},email_newsletter,no,2026-06-20T10:00:00Z,crm\n" for e in emails),
        encoding="utf-8",
    )
    load(db=str(db), file=str(path), table="consent_events", append=True)


def test_three_small_runs_that_together_remove_too_much_are_stopped(
    world: tuple[Api, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.run import run

    api, db = world
    assert run(db=str(db), yes=True).exit_code == 0
    (newsletter,) = [int(r["ID"]) for r in api.data("contactslist") if r["Name"] == "Newsletter"]
    members = sorted(e for e, unsubscribed in memberships(api, newsletter).items() if not unsubscribed)
    (removed,) = rows(
        db,
        "select count(*) from mailjet_sync.sync_changelog where action in ('unsub', 'remove') and outcome "
        f"= 'done' and list_id = {newsletter}",
    )[0]
    n, size, earlier = max(3, len(members) // 20), len(members), int(str(removed))
    # Each run alone stays under the limit; the second with the first's removals too; not the third.
    alone = 100 * n / (size - n)
    second, third = (100 * (earlier + k * n) / (size + earlier) for k in (1, 2))
    limit = (max(alone, second) + third) / 2
    assert max(alone, second) < limit < third
    monkeypatch.setenv("SYNC__MAX_REMOVAL_PCT", f"{limit:.3f}")

    withdraw(db, tmp_path, members[:n], "second")
    assert run(db=str(db), yes=True).exit_code == 0
    withdraw(db, tmp_path, members[n : 2 * n], "third")
    with pytest.raises(CommandError, match=r"removal_share .* applied in the last 7 days") as caught:
        run(db=str(db), yes=True)
    assert caught.value.exit_code == 3
    assert all(memberships(api, newsletter)[e] is False for e in members[n : 2 * n])  # nobody more left
    # The window is a setting: with none, each run counts alone again.
    monkeypatch.setenv("SYNC__REMOVAL_WINDOW_DAYS", "0")
    assert run(db=str(db), yes=True).exit_code == 0


def memberships(api: Api, list_id: int) -> dict[str, bool]:
    """email -> unsubscribed, for every member of the list, as Mailjet says now."""
    emails = {int(c["ID"]): str(c["Email"]).lower() for c in api.data("contact", Limit=1000)}
    return {
        emails[int(str(r["ContactID"]))]: bool(r["IsUnsubscribed"])
        for r in api.data("listrecipient", ContactsList=list_id, Limit=1000)
    }


def test_a_guards_stop_of_a_run_names_the_apply_that_sends_it(
    world: tuple[Api, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.run import run

    _, db = world
    source = tmp_path / "my audiences.sql"
    source.write_text(SHIPPED.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("SYNC__MAX_REMOVAL_PCT", "0")  # any unsubscribe stops the newsletter
    with pytest.raises(CommandError, match="stopped by a guard: newsletter") as caught:
        run(db=str(db), audiences=str(source), yes=True)
    assert str(caught.value).endswith(f"to send it anyway, apply --force --audiences '{source}'")
    # What it says clears it: that file's plans are sent.
    forced = apply(db=str(db), audiences=str(source), yes=True, force=True)
    assert forced.exit_code == 0 and {r.audience for r in forced.runs} == {"newsletter", "service"}


APPLY = (
    "import sys; from pipelines.apply import apply; "
    "apply(db=sys.argv[1], audiences=sys.argv[2], yes=True, batch_size=7)"
)


def test_a_half_applied_plan_of_a_removed_audience_sends_no_more_and_its_jobs_are_recorded(
    world: tuple[Api, Path], tmp_path: Path
) -> None:
    api, db = world
    source = tmp_path / "audiences.sql"
    text = SHIPPED.read_text(encoding="utf-8")
    source.write_text(text, encoding="utf-8")
    plan(db=str(db), audiences=str(source), config=SyncConfiguration())
    (news,) = rows(db, "select run_id from mailjet_sync.sync_runs where audience = 'newsletter'")[0]
    child = subprocess.Popen(
        [sys.executable, "-c", APPLY, str(db), str(source)],
        cwd=ROOT,
        env={**os.environ, **creds(api)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    before = int(api.admin("GET", "requests").json()["total"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and int(api.admin("GET", "requests").json()["total"]) < before + 25:
        time.sleep(0.1)  # a few of the newsletter's jobs sent and polled (its list comes first)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    assert rows(db, f"select status from mailjet_sync.sync_runs where run_id = {news}") == [("applying",)]
    started = rows(db, f"select count(*) from mailjet_sync.sync_jobs where run_id = {news}")[0][0]
    assert started, "no job of the newsletter was started before the kill"

    source.write_text(
        text[: text.index("-- audience: newsletter")] + text[text.index("-- audience: service") :]
    )
    replanned = plan(db=str(db), audiences=str(source), config=SyncConfiguration())
    (said,) = replanned.superseded
    assert said.startswith("newsletter: no longer in the audiences file") and f"the jobs run {news}" in said
    result = apply(db=str(db), audiences=str(source), yes=True, batch_size=7)  # as the stopped one
    assert [r.audience for r in result.runs] == ["service"] and result.exit_code == 0
    assert rows(db, f"select status from mailjet_sync.sync_runs where run_id = {news}") == [("superseded",)]
    # No job of it was started since, and every one it had started is recorded, change by change.
    jobs = rows(db, f"select count(*), sum(contacts) from mailjet_sync.sync_jobs where run_id = {news}")
    logged = rows(db, f"select count(*) from mailjet_sync.sync_changelog where run_id = {news}")
    assert jobs[0][0] == started and logged[0][0] == jobs[0][1]
