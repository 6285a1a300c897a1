"""`mailjet-elt apply` against a seeded sandbox: the plan reaches Mailjet's lists through bulk jobs, every
outcome is recorded, and the invariants of the sync hold in Mailjet itself."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from destinations.mailjet_lists.outcomes import SHOWN
from pipelines.apply import apply
from pipelines.errors import CommandError
from pipelines.extract import extract
from pipelines.plan import plan
from pipelines.sync.config import SyncConfiguration
from tests.conftest import Api, creds
from tests.sync.conftest import SANDBOX_CONTACTS


@pytest.fixture(scope="module")
def sandbox_settings() -> dict[str, Any]:
    """The worlds of this module hold no messages, which the sync never reads (nor its tests here): each
    extract reads the contacts, lists and memberships without two years of campaigns and events."""
    return {"contacts": SANDBOX_CONTACTS, "messages": 0}


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(sql).fetchall()


def memberships(api: Api, list_id: int) -> dict[str, bool]:
    """email -> unsubscribed, for every member of the list, as Mailjet says now."""
    emails = {int(c["ID"]): str(c["Email"]).lower() for c in page(api, "contact")}
    return {
        emails[int(r["ContactID"])]: bool(r["IsUnsubscribed"])
        for r in page(api, "listrecipient", ContactsList=list_id)
    }


def page(api: Api, resource: str, **params: object) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    while True:
        got = api.data(resource, Limit=1000, Offset=len(out), **params)
        out += got
        if len(got) < 1000:
            return out


def planned(db: Path, audience: str) -> dict[str, str]:
    return {
        str(e): str(a)
        for e, a in rows(
            db,
            "select email, action from mailjet_sync.sync_plan where run_id = (select max(run_id) from "
            f"mailjet_sync.sync_runs where audience = '{audience}')",
        )
    }


def test_apply_sends_the_plan_and_a_rerun_has_nothing_left(world: tuple[Api, Path]) -> None:
    api, db = world
    lists = {str(r["Name"]): int(r["ID"]) for r in api.data("contactslist")}
    before = memberships(api, lists["Newsletter"])
    plan(db=str(db), config=SyncConfiguration())
    news = planned(db, "newsletter")
    assert {"addnoforce", "unsub", "update"} <= set(news.values())

    result = apply(db=str(db), yes=True)
    assert {r.audience: r.status for r in result.runs} == {"newsletter": "applied", "service": "applied"}
    assert [r.mismatches for r in result.runs] == [[], []] and result.exit_code == 0
    assert rows(db, "select distinct mismatches from mailjet_sync.sync_runs") == [(0,)]
    after = memberships(api, lists["Newsletter"])
    for email, action in news.items():
        if action == "addnoforce":
            assert after.get(email) is False, f"{email} was planned as an add and is not a subscribed member"
        if action == "unsub":
            assert after.get(email) is True, f"{email} withdrew and is still subscribed"
    for email, unsubscribed in before.items():
        if unsubscribed:
            assert after[email] is True, f"{email} was unsubscribed and is subscribed again"
        elif email not in news:
            assert after[email] is False, f"{email} was not in the plan and changed"
    # Every change is in the changelog, once, with its job; the adds are now managed.
    log = rows(
        db,
        "select count(*), count(distinct (run_id, email, action)), count(job_id) "
        "from mailjet_sync.sync_changelog",
    )
    total = rows(db, "select count(*) from mailjet_sync.sync_plan")[0][0]
    assert log == [(total, total, total)]
    adds = sum(1 for a in news.values() if a == "addnoforce")
    managed = rows(db, "select count(*) from mailjet_sync.sync_snapshot where audience = 'newsletter'")
    assert managed == [(adds,)]
    assert result.jobs >= 3 and result.jobs <= 8  # one job per (list, action) at this size

    # Nothing changed since: the same plan has nothing left, and a new extract + plan plans nothing.
    again = apply(db=str(db), yes=True)
    assert again.runs == [] and sorted(again.already) == ["newsletter", "service"] and again.jobs == 0
    extract(db=str(db))
    replanned = plan(db=str(db), config=SyncConfiguration())
    assert {p.audience: p.actions for p in replanned.plans} == {"newsletter": {}, "service": {}}


def test_a_guard_stops_the_apply_unless_forced(world: tuple[Api, Path]) -> None:
    api, db = world
    result = plan(db=str(db), config=SyncConfiguration(max_removal_pct=0))  # any unsubscribe trips it
    assert [p.audience for p in result.plans if p.stopped] == ["newsletter"]
    requests_before = int(api.admin("GET", "requests").json()["total"])
    with pytest.raises(CommandError, match=r"stopped by a guard: newsletter: removal_share") as caught:
        apply(db=str(db), yes=True)
    assert caught.value.exit_code == 3
    assert int(api.admin("GET", "requests").json()["total"]) == requests_before  # nothing was sent
    forced = apply(db=str(db), yes=True, force=True)
    assert {r.audience for r in forced.runs} == {"newsletter", "service"}


def test_a_plan_older_than_the_newest_extract_is_never_sent(world: tuple[Api, Path]) -> None:
    _, db = world
    plan(db=str(db), config=SyncConfiguration())
    extract(db=str(db))
    with pytest.raises(CommandError, match="older than the newest extract") as caught:
        apply(db=str(db), yes=True, force=True)
    assert caught.value.exit_code == 3


def test_without_yes_it_asks_and_a_no_sends_nothing(world: tuple[Api, Path]) -> None:
    _, db = world
    plan(db=str(db), config=SyncConfiguration())
    asked: list[str] = []

    def say_no(question: str) -> bool:
        asked.append(question)
        return False

    with pytest.raises(CommandError, match="not confirmed"):
        apply(db=str(db), confirm=say_no)
    assert asked and asked[0].startswith("Send ") and "addnoforce" in asked[0]
    # Each audience by name, with its list, its changes and the plan's age.
    lines = asked[0].splitlines()[1:]
    assert [line.split(" -> ")[0].strip() for line in lines] == ["newsletter", "service"], lines
    for line in lines:
        assert re.fullmatch(
            r'  \w+ -> list "[^"]+" \((ID \d+|created by this apply)\): '
            r"(addnoforce|unsub|remove|update) \d+(, \w+ \d+)*; planned (\d+ minutes?|[\d.]+ h) ago",
            line,
        ), line
    assert rows(db, "select count(*) from mailjet_sync.sync_changelog") == [(0,)]
    assert rows(db, "select distinct status from mailjet_sync.sync_runs") == [("planned",)]


def test_a_list_mailjet_lacks_is_created(world: tuple[Api, Path], tmp_path: Path) -> None:
    api, db = world
    source = tmp_path / "audiences.sql"
    source.write_text(
        "-- audience: fans\n-- list: Fans\n-- properties: country\n"
        "create or replace view audience_fans as select email, country from crm.profiles\n",
        encoding="utf-8",
    )
    [fans] = plan(db=str(db), audiences=str(source), config=SyncConfiguration()).plans
    adds = fans.count("addnoforce")
    assert fans.list_id is None and adds + sum(fans.held_back.values()) == 150
    [applied] = apply(db=str(db), audiences=str(source), yes=True).runs
    assert applied.list_created and applied.done == {"addnoforce": adds}
    made = [r for r in api.data("contactslist") if r["Name"] == "Fans"]
    assert len(made) == 1 and int(made[0]["ID"]) == applied.list_id
    assert len(memberships(api, applied.list_id)) == adds
    assert any(m["Name"] == "country" for m in page(api, "contactmetadata"))


def test_contacts_a_completed_job_refused_are_reported_and_planned_again(world: tuple[Api, Path]) -> None:
    api, db = world
    plan(db=str(db), audience="newsletter", config=SyncConfiguration())
    news = planned(db, "newsletter")
    api.admin("PUT", "faults", {"spec": "job_refuse_rate=0.3,seed=5"})
    [run] = apply(db=str(db), yes=True).runs
    assert run.status == "partial" and run.refused == {
        "Contact refused (injected fault)": sum(run.refused.values())
    }
    refused = {
        str(e) for (e,) in rows(db, "select email from mailjet_sync.sync_changelog where outcome = 'refused'")
    }
    assert refused and refused <= set(news)
    reported = rows(
        db,
        "select email, reason, detail from mailjet_sync.sync_rejections where stage = 'apply' order by email",
    )
    assert [r[0] for r in reported] == sorted(refused)
    assert {r[1:] for r in reported} == {("refused_by_mailjet", "Contact refused (injected fault)")}
    # A refused add is not managed: only what Mailjet confirmed is.
    managed = {str(e) for (e,) in rows(db, "select email from mailjet_sync.sync_snapshot")}
    assert not managed & refused
    done = rows(db, "select done, refused, status from mailjet_sync.sync_runs where status = 'partial'")
    assert done == [(len(news) - len(refused), len(refused), "partial")]

    # The next run plans the refused changes again, and converges once Mailjet accepts them.
    api.admin("PUT", "faults", {"spec": ""})
    extract(db=str(db))
    replan = plan(db=str(db), audience="newsletter", config=SyncConfiguration()).plans[0]
    assert set(planned(db, "newsletter")) == refused
    assert replan.run_id > run.run_id
    apply(db=str(db), yes=True)
    extract(db=str(db))
    assert plan(db=str(db), audience="newsletter", config=SyncConfiguration()).plans[0].actions == {}


APPLY = textwrap.dedent(
    """
    import sys
    from pipelines.apply import apply
    apply(db=sys.argv[1], yes=True, batch_size=7)
    """
)


def test_apply_killed_at_random_points_converges_with_a_true_changelog(world: tuple[Api, Path]) -> None:
    api, db = world
    plan(db=str(db), config=SyncConfiguration())
    expected = {
        (str(e), str(a), int(lid))
        for e, a, lid in rows(db, "select email, action, list_id from mailjet_sync.sync_plan")
    }
    # Jobs that take Mailjet's time, polled at Mailjet's pace: the applies run long enough to be killed.
    api.app.store.job_seconds = 0.2
    env = {**os.environ, **creds(api), "MAILJET__JOB_POLL_SECONDS": "0.2"}
    rng = random.Random(7)
    kills = 0
    for _ in range(4):  # batches of 7: dozens of jobs, each killed somewhere new
        child = subprocess.Popen(
            [sys.executable, "-c", APPLY, str(db)],
            cwd=Path(__file__).parents[2],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            child.wait(timeout=rng.uniform(1.0, 4.0))
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.wait(timeout=60)
    assert kills >= 2, "the applies finished before they could be killed: make the batches smaller"
    final = apply(db=str(db), yes=True, batch_size=7)
    assert all(r.status == "applied" for r in final.runs)
    log = rows(db, "select email, action, list_id, outcome from mailjet_sync.sync_changelog")
    assert len(log) == len(expected), "a change is logged twice, or one is missing"
    assert {(str(e), str(a), int(lid)) for e, a, lid, _ in log} == expected
    # Done, or passed over because the list already showed it when a batch stopped before its job was
    # written down was sent again (its job had run).
    assert {o for *_, o in log} <= {"done", "skipped"}
    assert not rows(
        db, f"select email from mailjet_sync.sync_changelog where outcome = 'skipped' and error <> '{SHOWN}'"
    )
    # A batch resent after a kill waited for the job it had started: no batch was started twice (a kill
    # between Mailjet's answer and the journal's write can leave one job unjournaled, at most).
    journal = rows(db, "select count(*), count(distinct batch_key) from mailjet_sync.sync_jobs")[0]
    assert journal[0] == journal[1], "a batch was sent twice"
    started = [j for j in api.app.store.jobs.values() if j.kind in ("list", "contact")]
    assert journal[0] <= len(started) <= journal[0] + kills
    # Mailjet's lists are as the plan says: no change lost, none logged that did not happen.
    state = {lid: memberships(api, lid) for lid in {lid for *_, lid in expected}}
    for email, action, list_id in expected:
        member = state[list_id].get(email)
        if action in ("addnoforce", "update"):
            assert member is False, (email, action)
        elif action == "unsub":
            assert member is True, (email, action)
        else:
            assert member is None, (email, action)


def test_a_newer_plan_supersedes_an_interrupted_apply(world: tuple[Api, Path]) -> None:
    api, db = world
    plan(db=str(db), config=SyncConfiguration())
    env = {**os.environ, **creds(api)}
    child = subprocess.Popen(
        [sys.executable, "-c", APPLY, str(db)],
        cwd=Path(__file__).parents[2],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    before = int(api.admin("GET", "requests").json()["total"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and int(api.admin("GET", "requests").json()["total"]) < before + 25:
        time.sleep(0.1)  # a few jobs sent and polled
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    interrupted = rows(db, "select run_id from mailjet_sync.sync_runs where status = 'applying'")
    assert interrupted, "the apply finished before it could be killed"
    old = ", ".join(str(r) for (r,) in interrupted)
    journaled = rows(db, f"select job_id from mailjet_sync.sync_jobs where run_id in ({old})")
    logged = rows(db, f"select email, action from mailjet_sync.sync_changelog where run_id in ({old})")

    plan(db=str(db), config=SyncConfiguration())  # made while the apply is unfinished
    result = apply(db=str(db), yes=True)
    assert any("superseded by a newer plan" in note for note in result.resumed)
    statuses = dict(rows(db, "select run_id, status from mailjet_sync.sync_runs"))
    assert {statuses[r] for (r,) in interrupted} == {"superseded"}
    # Nothing more of the superseded runs was sent: no job was started for them since the kill. A job
    # Mailjet had accepted before it was waited for and logged (the changelog misses nothing Mailjet
    # did); the newer runs were sent.
    assert sorted(rows(db, f"select job_id from mailjet_sync.sync_jobs where run_id in ({old})")) == sorted(
        journaled
    )
    since = rows(
        db,
        f"select email, action, job_id from mailjet_sync.sync_changelog where run_id in ({old})",
    )
    new_rows = [(e, a, j) for e, a, j in since if (e, a) not in set(logged)]
    assert {j for *_, j in new_rows} <= {j for (j,) in journaled}, new_rows
    assert {r.status for r in result.runs} == {"applied"}


FANS = (
    "-- audience: fans\n-- list: Fans\n-- on_exit: remove\n-- properties: country\n"
    "create or replace view audience_fans as select email, country from crm.profiles\n"
)


def test_between_plan_and_apply_mailjet_changes_win(world: tuple[Api, Path], tmp_path: Path) -> None:
    """An update never puts back on a list someone who left it; a removal never erases an unsubscribe."""
    api, db = world
    source = tmp_path / "audiences.sql"
    source.write_text(FANS, encoding="utf-8")
    plan(db=str(db), audiences=str(source), config=SyncConfiguration())
    [first] = apply(db=str(db), audiences=str(source), yes=True).runs
    fans = first.list_id
    members = sorted(memberships(api, fans))
    leaving, unsubscribing, moving = members[0], members[1], members[2]
    # The CRM drops two of them (they leave the audience: removals) and moves a third (an update).
    with duckdb.connect(str(db)) as con:
        con.execute("delete from crm.profiles where lower(email) in (?, ?)", [leaving, unsubscribing])
        con.execute("update crm.profiles set country = 'IS' where lower(email) = ?", [moving])
    extract(db=str(db))
    plan(db=str(db), audiences=str(source), config=SyncConfiguration(max_removal_pct=50))
    assert planned(db, "fans") == {leaving: "remove", unsubscribing: "remove", moving: "update"}
    # Meanwhile, in Mailjet: one unsubscribes, the one to update is removed from the list by hand.
    ids = {str(c["Email"]).lower(): int(c["ID"]) for c in page(api, "contact")}
    recipients = {int(r["ContactID"]): int(r["ID"]) for r in page(api, "listrecipient", ContactsList=fans)}
    assert (
        api.put(f"listrecipient/{recipients[ids[unsubscribing]]}", {"IsUnsubscribed": True}).status_code
        == 200
    )
    assert api.delete(f"listrecipient/{recipients[ids[moving]]}").status_code == 204
    [applied] = apply(db=str(db), audiences=str(source), yes=True).runs
    now = memberships(api, fans)
    assert leaving not in now
    assert now[unsubscribing] is True  # still on the list, unsubscribed: the record of it stays
    assert moving not in now  # the update changed the property, not the membership
    country = [p for p in api.data(f"contactdata/{ids[moving]}")[0]["Data"] if p["Name"] == "country"]
    assert country == [{"Name": "country", "Value": "IS"}]
    assert applied.skipped == 1 and applied.status == "applied"
    outcome = rows(
        db,
        "select outcome from mailjet_sync.sync_changelog "
        f"where email = '{unsubscribing}' and action = 'remove'",
    )
    assert outcome == [("skipped",)]
    # Once removed by the sync, a person is no longer its own: back on the list by their own doing, and
    # still out of the audience, they stay.
    assert rows(
        db,
        f"select last_action from mailjet_sync.sync_snapshot where audience = 'fans' and email = '{leaving}'",
    ) == [("remove",)]
    assert (
        api.post(f"contactslist/{fans}/managecontact", {"Email": leaving, "Action": "addnoforce"}).status_code
        == 201
    )
    extract(db=str(db))
    plan(db=str(db), audiences=str(source), config=SyncConfiguration(max_removal_pct=50))
    assert leaving not in planned(db, "fans")


def test_a_list_mailjet_has_with_members_the_extract_did_not_see_stops(
    world: tuple[Api, Path], tmp_path: Path
) -> None:
    api, db = world
    source = tmp_path / "audiences.sql"
    source.write_text(FANS, encoding="utf-8")
    [fans] = plan(db=str(db), audiences=str(source), config=SyncConfiguration()).plans
    assert fans.list_id is None
    made = api.post("contactslist", {"Name": "fans"}).json()["Data"][0]["ID"]  # by hand, since the extract
    assert (
        api.post(
            f"contactslist/{made}/managecontact", {"Email": "hand@example.com", "Action": "addnoforce"}
        ).status_code
        == 201
    )
    with pytest.raises(
        CommandError, match="exists in Mailjet with members, but the extract did not see it"
    ) as caught:
        apply(db=str(db), audiences=str(source), yes=True)
    assert caught.value.exit_code == 3
    assert rows(db, "select count(*) from mailjet_sync.sync_snapshot") == [(0,)]


def test_a_change_the_list_does_not_show_afterwards_is_reported_and_exits_1(
    world: tuple[Api, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from destinations.mailjet_lists import readback

    api, db = world
    plan(db=str(db), audience="newsletter", config=SyncConfiguration())
    added = sorted(e for e, a in planned(db, "newsletter").items() if a == "addnoforce")[0]
    real = readback.read_back

    def undone_then_read(http: Any, list_id: int, action: Any, emails: Any) -> dict[str, bool]:
        # Someone takes the new member off the list before it is read back.
        ids = {str(c["Email"]).lower(): int(c["ID"]) for c in page(api, "contact")}
        for member in page(api, "listrecipient", ContactsList=list_id):
            if int(member["ContactID"]) == ids[added]:
                assert api.delete(f"listrecipient/{member['ID']}").status_code == 204
        return real(http, list_id, action, emails)

    monkeypatch.setattr(readback, "read_back", undone_then_read)
    monkeypatch.setenv("SYNC__READ_BACK_SECONDS", "3")
    waited: list[float] = []
    result = apply(db=str(db), yes=True, sleep=waited.append)
    [run] = result.runs
    assert run.status == "partial" and result.exit_code == 1
    assert run.mismatches == [{"email": added, "action": "addnoforce", "found": "not a member"}]
    assert waited == [0.5, 1.0, 1.5]  # read again before it was called a mismatch, no longer than allowed
    stored = rows(
        db, "select mismatches, mismatch_detail from mailjet_sync.sync_runs where status = 'partial'"
    )
    assert stored[0][0] == 1 and added in str(stored[0][1])
    assert rows(db, f"select outcome from mailjet_sync.sync_changelog where email = '{added}'") == [
        ("failed",)
    ]


def test_a_batch_recorded_twice_logs_each_change_once(
    world: tuple[Api, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch whose outcome was recorded, then delivered again (killed before dlt noted it done), adds no
    second changelog, rejection or snapshot row."""
    from pipelines.sync.journal import Recorder

    api, db = world
    api.admin("PUT", "faults", {"spec": "job_refuse_rate=0.2,seed=5"})  # refusals are recorded too
    plan(db=str(db), config=SyncConfiguration())
    wanted = rows(db, "select count(*) from mailjet_sync.sync_plan")[0][0]
    record = Recorder._record

    def twice(self: Any, batch: Any) -> None:
        record(self, batch)
        record(self, batch)

    monkeypatch.setattr(Recorder, "_record", twice)
    result = apply(db=str(db), yes=True)
    assert result.exit_code == 1 and wanted > 0  # partial: Mailjet refused some
    assert rows(
        db, "select count(*), count(distinct (run_id, email, action)) from mailjet_sync.sync_changelog"
    ) == [(wanted, wanted)]
    assert rows(
        db, "select count(*) - count(distinct (audience, list_id, email)) from mailjet_sync.sync_snapshot"
    ) == [(0,)]
    refused = rows(
        db,
        "select count(*), count(distinct (run_id, email)) from mailjet_sync.sync_rejections "
        "where stage = 'apply'",
    )
    assert refused[0][0] > 0 and refused[0][0] == refused[0][1]
    done = sum(sum(run.done.values()) for run in result.runs)
    assert done + refused[0][0] == wanted


def test_run_extracts_plans_applies_and_a_second_run_sends_nothing(world: tuple[Api, Path]) -> None:
    from pipelines.report import render
    from pipelines.run import run

    api, db = world
    first = run(db=str(db), yes=True)
    assert first.exit_code == 0 and first.apply.jobs > 0
    assert {r.audience: r.status for r in first.apply.runs} == {"newsletter": "applied", "service": "applied"}
    assert "== extract" in render(first) and "== apply" in render(first)
    document = json.loads(render(first, "json"))
    assert document["result"] == "run" and document["apply"]["jobs"] == first.apply.jobs
    assert api.admin("DELETE", "requests").status_code == 204
    second = run(db=str(db), yes=True)
    assert {p.audience: p.actions for p in second.plan.plans} == {"newsletter": {}, "service": {}}
    assert second.apply.jobs == 0 and second.exit_code == 0
    writes = [r for r in api.admin("GET", "requests/log").json()["requests"] if r["method"] != "GET"]
    assert writes == []  # nothing changed: the second run reads, and sends no write at all


def test_with_rate_limits_server_errors_and_failing_jobs_reruns_converge(
    world: tuple[Api, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.run import run

    api, db = world
    monkeypatch.setenv("MAILJET__BACKOFF_SECONDS", "0.01")  # retried at once: the faults, not the waits
    plan(db=str(db), config=SyncConfiguration())
    sql = "select audience, email, action from mailjet_sync.sync_plan where action <> 'update'"
    wanted = {(str(n), str(e), str(a)) for n, e, a in rows(db, sql)}
    lists = {str(r["Name"]): int(r["ID"]) for r in api.data("contactslist")}
    api.admin("PUT", "faults", {"spec": "error_rate=0.15,rate_limit=40,job_fail_rate=0.35,seed=11"})
    outcomes: list[int] = []
    for _ in range(10):  # each run resends what did not go through; the faults stay on
        try:
            result = apply(db=str(db), yes=True, batch_size=25)
            outcomes.append(result.exit_code)
        except CommandError as exc:
            outcomes.append(exc.exit_code)
        if outcomes[-1] == 0:
            break
        extract(db=str(db))
        plan(db=str(db), config=SyncConfiguration())
    assert outcomes[-1] == 0, f"no convergence with faults on: exit statuses {outcomes}"
    assert 1 in outcomes, "no fault reached the apply: make them harsher"
    # The failing jobs' contacts were reported with the text their report gives each of them (the list
    # did not show them), and planned again.
    failed = rows(
        db,
        "select distinct j.reason, j.detail from mailjet_sync.sync_rejections j where j.stage = 'apply'",
    )
    assert failed == [("refused_by_mailjet", "job aborted")]
    # Mailjet ends as the first plan said (read with the faults off), and one more run with them on has
    # nothing to do.
    api.admin("PUT", "faults", {"spec": ""})
    state = {name: memberships(api, lid) for name, lid in lists.items()}
    done = rows(db, "select audience, email, action from mailjet_sync.sync_changelog where outcome = 'done'")
    # Every planned membership change happened (an update can be made moot by another audience's add
    # that sent the same property: the final plan below shows no property is left to update).
    assert wanted <= {(str(n), str(e), str(a)) for n, e, a in done}
    target = {"newsletter": "Newsletter", "service": "Service messages"}
    for audience, email, action in done:
        if action == "update":
            continue
        member = state[target[str(audience)]].get(str(email))
        assert member is (action == "unsub"), (audience, email, action)
    api.admin("PUT", "faults", {"spec": "error_rate=0.15,rate_limit=40,job_fail_rate=0.35,seed=12"})
    again = run(db=str(db), yes=True)
    assert {p.audience: p.actions for p in again.plan.plans} == {"newsletter": {}, "service": {}}
    assert again.exit_code == 0 and again.apply.jobs == 0


def test_one_bulk_job_per_list_action_and_batch_and_never_addforce(world: tuple[Api, Path]) -> None:
    api, db = world
    plan(db=str(db), config=SyncConfiguration())
    counts = rows(db, "select list_id, action, count(*) from mailjet_sync.sync_plan group by all")
    assert len(counts) >= 3
    api.admin("DELETE", "requests")
    result = apply(db=str(db), yes=True, batch_size=40)
    jobs = [j for j in api.app.store.jobs.values() if j.kind in ("list", "contact")]
    assert len(jobs) == result.jobs
    # At least one job per 40 changes of a (list, action); at most one more per action when a batch of
    # dlt's holds the end of one list's rows and the start of the next's.
    fewest = sum(-(-int(n) // 40) for _, _, n in counts)
    actions = {str(a) for _, a, _ in counts}
    assert (
        fewest
        <= len(jobs)
        <= fewest + sum(len({lid for lid, a, _ in counts if a == action}) - 1 for action in actions)
    )
    assert all(0 < len(j.contacts) <= 40 for j in jobs)
    # Subscribing is addnoforce only; memberships change through bulk jobs only, never one by one.
    assert {j.Method for j in jobs if j.kind == "list"} <= {"addnoforce", "unsub", "remove"}
    assert not any(j.ContactsLists for j in jobs if j.kind == "contact")  # updates touch no membership
    writes = [r for r in api.admin("GET", "requests/log").json()["requests"] if r["method"] != "GET"]
    assert {r["path"].rsplit("/", 1)[-1] for r in writes} == {"managemanycontacts"}
    # Every job is in the changelog, polled to its end, and recorded with its outcome.
    logged = {int(j) for (j,) in rows(db, "select distinct job_id from mailjet_sync.sync_changelog")}
    assert logged == {j.ID for j in jobs}
    assert {j.Status for j in jobs} == {"Completed"}


def test_a_job_mailjet_ran_while_apply_was_killed_is_recorded_though_a_newer_plan_came(
    world: tuple[Api, Path],
) -> None:
    api, db = world
    plan(db=str(db), audience="newsletter", config=SyncConfiguration())
    [(old_run,)] = rows(db, "select run_id from mailjet_sync.sync_runs")
    api.app.store.job_seconds = 30.0  # the job runs while the apply waits for it
    child = subprocess.Popen(
        [sys.executable, "-c", APPLY.replace("batch_size=7", "batch_size=1000"), str(db)],
        cwd=Path(__file__).parents[2],
        env={**os.environ, **creds(api)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not api.app.store.jobs:
        time.sleep(0.05)
    time.sleep(1.0)  # Mailjet accepted the job; the apply is polling it
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    [job] = list(api.app.store.jobs.values())
    api.finish_jobs()  # Mailjet finishes it: its changes happened, unrecorded so far
    api.app.store.job_seconds = 0.2
    assert rows(db, "select count(*) from mailjet_sync.sync_changelog") == [(0,)]

    extract(db=str(db))  # sees the job's changes: the new plan does not repeat them
    plan(db=str(db), audience="newsletter", config=SyncConfiguration())
    result = apply(db=str(db), yes=True)
    assert any("superseded by a newer plan" in note for note in result.resumed)
    assert dict(rows(db, "select run_id, status from mailjet_sync.sync_runs"))[old_run] == "superseded"
    # The job's changes are in the changelog, under the run that sent them, and managed.
    logged = rows(
        db,
        "select lower(email), outcome from mailjet_sync.sync_changelog where job_id = "
        f"{job.ID} and run_id = {old_run}",
    )
    assert sorted(e for e, _ in logged) == sorted(str(c["Email"]).lower() for c in job.contacts)
    assert {o for _, o in logged} == {"done"}
    managed = {str(e) for (e,) in rows(db, "select email from mailjet_sync.sync_snapshot")}
    if job.Method == "addnoforce":
        assert {e for e, _ in logged} <= managed
    # And no batch was sent twice.
    again = [j for j in api.app.store.jobs.values() if j.ID != job.ID]
    sent_again = {str(c["Email"]).lower() for j in again if j.Method == job.Method for c in j.contacts}
    assert not sent_again & {e for e, _ in logged}


def test_a_mailjet_host_that_does_not_resolve_fails_nothing_and_the_apply_resumes(
    world: tuple[Api, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api, db = world
    # Without properties to create first, the first request goes out from the destination's jobs.
    from pipelines.sync.plan import SHIPPED_AUDIENCES

    text = Path(SHIPPED_AUDIENCES).read_text(encoding="utf-8")
    audiences = tmp_path / "audiences.sql"
    audiences.write_text(
        "\n".join(line for line in text.splitlines() if not line.startswith("-- properties:")),
        encoding="utf-8",
    )
    plan(db=str(db), audiences=str(audiences), config=SyncConfiguration())
    real = socket.getaddrinfo

    def typo_unknown(host: str, *args: Any, **kwargs: Any) -> Any:
        if str(host).endswith(".example"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    port = api.base.rsplit(":", 1)[1]
    with monkeypatch.context() as typo:
        typo.setattr(socket, "getaddrinfo", typo_unknown)
        typo.setenv("MAILJET__BASE_URL", f"http://mailjet.typo.example:{port}")
        with pytest.raises(CommandError) as caught:
            apply(db=str(db), yes=True)
    assert "cannot resolve mailjet.typo.example" in str(caught.value)
    assert rows(db, "select count(*) from mailjet_sync.sync_changelog") == [(0,)]  # nothing failed
    result = apply(db=str(db), yes=True)  # the name right again: the same plan goes out
    assert {r.status for r in result.runs} == {"applied"} and result.exit_code == 0
    failed = rows(db, "select count(*) from mailjet_sync.sync_changelog where outcome <> 'done'")
    assert failed == [(0,)]
