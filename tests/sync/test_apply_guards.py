"""The guards an apply checks, and a run's outcomes counted, with plain data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from pipelines.errors import EXIT_GUARD
from pipelines.sync.apply_guards import GuardStop, check_guards
from pipelines.sync.config import SyncConfiguration
from pipelines.sync.guards import Guard, PlanFigures, judge, unmatched_members
from pipelines.sync.runs import PendingRun, Status, Tally, stale, stale_for_list, tally

pytestmark = pytest.mark.unit

EXTRACT = datetime(2026, 6, 15, 12, tzinfo=UTC)
EARLIER = datetime(2026, 6, 14, 12, tzinfo=UTC)
STOP = json.dumps(
    [
        {"name": "max_removal_pct", "verdict": "stop", "detail": "removes 40 % of the list"},
        {"name": "empty_audience", "verdict": "ok", "detail": "fine"},
    ]
)

# A healthy plan but for its Mailjet data: none was ever extracted.
FIGURES = PlanFigures(
    audience_rows=10,
    rejected=0,
    leaving=0,
    list_members=10,
    on_exit="remove",
    managed_kept=0,
    unmatched=0,
    as_of=None,
)


def run(
    audience: str = "newsletter",
    as_of: datetime | None = EXTRACT,
    guard: str = "ok",
    status: Status = "planned",
) -> PendingRun:
    detail = STOP if guard == "stop" else "[]"
    return PendingRun(1, audience, "Newsletter", 10, "Newsletter", status, guard, detail, as_of, [])


def test_plans_made_from_the_newest_extract_pass() -> None:
    check_guards([run(), run("service")], EXTRACT, force=False)
    check_guards([run()], None, force=False)  # nothing extracted yet: nothing is newer


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize("as_of", [pytest.param(EARLIER, id="older"), pytest.param(None, id="undated")])
def test_a_stale_plan_is_never_sent_even_with_force(force: bool, as_of: datetime | None) -> None:
    with pytest.raises(
        GuardStop, match="the plan of service read Mailjet data older than the newest"
    ) as caught:
        check_guards([run(), run("service", as_of=as_of)], EXTRACT, force)
    assert caught.value.exit_code == EXIT_GUARD == 3
    assert "run `mailjet-elt plan` again" in str(caught.value)


@pytest.mark.parametrize("force", [False, True])
def test_a_plan_from_data_extracted_before_another_apply_changed_its_list_is_never_sent(force: bool) -> None:
    overtaken = run("service", as_of=EARLIER)
    overtaken.list_applied_at = EARLIER + timedelta(minutes=5)
    with pytest.raises(GuardStop) as caught:
        check_guards([run(), overtaken], EARLIER, force=force)
    assert caught.value.exit_code == EXIT_GUARD
    assert str(caught.value) == (
        "the plan of service (data extracted 2026-06-14T12:00:00+00:00, list Newsletter changed by an apply "
        "that ended 2026-06-14T12:05:00+00:00) read Mailjet data from before another apply changed its "
        "list, and would send those changes again. Nothing was sent: run `mailjet-elt run` (or `extract`, "
        "`plan`, then `apply`)"
    )


def test_staleness_against_the_lists_latest_apply() -> None:
    assert not stale_for_list(EARLIER, None)  # the list was never changed by an apply
    assert not stale_for_list(EXTRACT, EARLIER)  # extracted after the apply ended
    assert stale_for_list(EARLIER, EXTRACT)
    assert stale_for_list(None, EARLIER)


def test_a_guards_stop_needs_force_and_names_the_audience_and_detail() -> None:
    with pytest.raises(GuardStop) as caught:
        check_guards([run(), run("vip", guard="stop")], EXTRACT, force=False)
    assert str(caught.value) == (
        "stopped by a guard: vip: max_removal_pct (removes 40 % of the list). Nothing was sent; to send it "
        "anyway, apply --force"
    )
    assert caught.value.exit_code == 3
    check_guards([run(), run("vip", guard="stop")], EXTRACT, force=True)


@pytest.mark.parametrize("force", [False, True])
def test_a_stop_that_cannot_be_forced_stops_apply_even_forced_and_suggests_no_force(force: bool) -> None:
    """No Mailjet data at all, or members of unknown address: --force has nothing sound to send on."""
    [no_data] = [g for g in judge(FIGURES, SyncConfiguration(), EXTRACT) if g.name == "data_age"]
    [unmatched] = unmatched_members(2)
    for guard in (no_data, unmatched):
        assert (guard.verdict, guard.forceable) == ("stop", False)
        detail = json.dumps([g.__dict__ for g in (guard, Guard("removal_share", "stop", "40 %"))])
        blocked = PendingRun(1, "vip", "VIP", 10, "VIP", "planned", "stop", detail, EXTRACT, [])
        with pytest.raises(GuardStop) as caught:
            check_guards([run(), blocked], EXTRACT, force=force)
        assert str(caught.value) == (
            f"stopped by a guard that --force does not pass: vip: {guard.name} ({guard.detail}). "
            "Nothing was sent"
        )
        assert "--force" not in str(caught.value).split("pass:")[1] and caught.value.exit_code == 3


@pytest.mark.parametrize("force", [False, True])
def test_a_plan_written_before_stops_said_whether_force_passes_them_is_judged_as_today(force: bool) -> None:
    """Its guard_detail has no `forceable`: no Mailjet data at all, or members of unknown address, still
    stop it forced; any other stop is passed by --force."""

    def old(name: str, as_of: datetime | None) -> PendingRun:
        detail = json.dumps([{"name": name, "verdict": "stop", "detail": "said then"}])
        return PendingRun(1, "vip", "VIP", 10, "VIP", "planned", "stop", detail, as_of, [])

    for blocked in (old("data_age", None), old("unmatched_members", EXTRACT)):
        with pytest.raises(GuardStop, match="--force does not pass"):
            check_guards([blocked], None if blocked.data_as_of is None else EXTRACT, force=force)
    passed = [old("data_age", EARLIER), old("removal_share", EXTRACT)]  # data too old; too many removals
    for run_ in passed:
        if force:
            check_guards([run_], None, force=True)
        else:
            with pytest.raises(GuardStop, match="to send it anyway"):
                check_guards([run_], None, force=False)


def test_a_stopped_run_already_being_applied_goes_on() -> None:
    check_guards([run(guard="stop", status="applying")], EXTRACT, force=False)


def test_staleness() -> None:
    assert stale(EARLIER, EXTRACT) and stale(None, EXTRACT)
    assert not stale(EXTRACT, EXTRACT) and not stale(None, None) and not stale(EARLIER, None)


def test_a_runs_outcomes_are_counted_by_kind() -> None:
    counted = [
        ("addnoforce", "done", None, 5),
        ("remove", "done", None, 2),
        ("addnoforce", "refused", "invalid address", 2),
        ("unsub", "refused", "invalid address", 1),
        ("remove", "skipped", "unsubscribed since the plan", 3),
        ("unsub", "failed", "job ended Error", 4),
        ("addnoforce", "unknown", "the job applied 1 of 3", 1),
    ]
    assert tally(counted) == Tally({"addnoforce": 5, "remove": 2}, {"invalid address": 3}, 5, 3)
    assert tally([]) == Tally({}, {}, 0, 0)
