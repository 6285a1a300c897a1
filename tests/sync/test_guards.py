"""The guards of a plan (design §7.4) as plain rules over a run's figures: no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from pipelines.errors import CommandError
from pipelines.sync.config import SyncConfiguration
from pipelines.sync.guards import PlanFigures, ago, judge, removal_share, stopped, update_share

pytestmark = pytest.mark.unit

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
FRESH = PlanFigures(
    audience_rows=100,
    rejected=0,
    leaving=0,
    list_members=100,
    on_exit="remove",
    managed_kept=0,
    unmatched=0,
    as_of=NOW - timedelta(minutes=30),
)


def verdicts(figures: PlanFigures, config: SyncConfiguration | None = None) -> dict[str, str]:
    return {g.name: g.verdict for g in judge(figures, config or SyncConfiguration(), NOW)}


def test_a_healthy_plan_passes_every_guard() -> None:
    guards = judge(FRESH, SyncConfiguration(), NOW)
    assert [(g.name, g.verdict) for g in guards] == [
        ("empty_audience", "ok"),
        ("data_tests", "ok"),
        ("removal_share", "ok"),
        ("update_share", "ok"),
        ("data_age", "ok"),
    ]
    assert not stopped(guards)
    assert guards[0].detail == "100 usable rows"
    assert (
        guards[4].detail == "Mailjet data extracted 30 minutes ago (limit 24 h in [sync] max_data_age_hours)"
    )


@pytest.mark.parametrize(
    ("figures", "detail"),
    [
        pytest.param(
            replace(FRESH, audience_rows=0, managed_kept=3),
            "the audience is empty: nobody leaves the list (3 members it added stay); check its SQL and the "
            "tables it reads",
            id="empty",
        ),
        pytest.param(
            replace(FRESH, audience_rows=2, rejected=2, managed_kept=1),
            "no row of the audience passed the data tests: nobody leaves the list (1 member it added stays); "
            "check its SQL and the tables it reads",
            id="all-rejected",
        ),
        pytest.param(
            replace(FRESH, audience_rows=0, on_exit="keep"),
            "the audience is empty; check its SQL and the tables it reads",
            id="empty-keep",
        ),
    ],
)
def test_an_audience_without_a_usable_row_is_held_and_removes_nobody(
    figures: PlanFigures, detail: str
) -> None:
    [empty] = [g for g in judge(figures, SyncConfiguration(), NOW) if g.name == "empty_audience"]
    assert (empty.verdict, empty.detail) == ("held", detail)


@pytest.mark.parametrize(
    ("rejected", "verdict"),
    [pytest.param(5, "ok", id="at-the-limit"), pytest.param(6, "held", id="over-the-limit")],
)
def test_the_data_tests_share_holds_exits_over_its_limit(rejected: int, verdict: str) -> None:
    [tests] = [
        g
        for g in judge(replace(FRESH, rejected=rejected), SyncConfiguration(), NOW)
        if g.name == "data_tests"
    ]
    assert tests.verdict == verdict
    assert tests.detail.startswith(
        f"{rejected} of 100 rows failed the data tests ({rejected:.1f} %, limit 5 % in [sync] "
        "max_rejected_pct)"
    )


@pytest.mark.parametrize(
    ("leaving", "members", "verdict"),
    [
        pytest.param(10, 100, "ok", id="at-the-limit"),
        pytest.param(11, 100, "stop", id="over-the-limit"),
        pytest.param(1, 0, "stop", id="anyone-leaving-an-empty-list"),
        pytest.param(0, 0, "ok", id="nobody-leaving-an-empty-list"),
    ],
)
def test_the_removal_share_stops_apply_over_max_removal_pct(leaving: int, members: int, verdict: str) -> None:
    figures = replace(FRESH, leaving=leaving, list_members=members)
    assert verdicts(figures)["removal_share"] == verdict
    assert stopped(judge(figures, SyncConfiguration(), NOW)) == (verdict == "stop")


def test_the_removal_limit_is_the_configured_one() -> None:
    figures = replace(FRESH, leaving=30)
    assert verdicts(figures)["removal_share"] == "stop"
    assert verdicts(figures, SyncConfiguration(max_removal_pct=30.0))["removal_share"] == "ok"


def test_removals_applied_within_the_window_count_with_the_planned_ones() -> None:
    # Three runs of 9 % each: the third plans 8 of the 82 left, after 18 removed this week.
    third = replace(FRESH, leaving=8, list_members=82, removed_recently=18)
    assert removal_share(replace(third, removed_recently=0), 10.0, 7).verdict == "ok"  # alone: 9.8 %
    guard = removal_share(third, 10.0, 7)
    assert guard.verdict == "stop"
    assert guard.detail == (
        "26 of 100 subscribed members would leave the list (unsubscribed or removed) (8 planned, 18 applied "
        "in the last 7 days): 26.0 %, limit 10 % in [sync] max_removal_pct: apply stops unless --force"
    )
    second = replace(FRESH, leaving=9, list_members=91, removed_recently=9)
    assert verdicts(second)["removal_share"] == "stop"  # 18 of 100
    assert verdicts(replace(second, leaving=1))["removal_share"] == "ok"  # 10 of 100: at the limit


@pytest.mark.parametrize(
    ("updates", "members", "verdict"),
    [
        pytest.param(50, 100, "ok", id="at-the-limit"),
        pytest.param(51, 100, "stop", id="over-the-limit"),
        pytest.param(1, 0, "stop", id="any-update-of-an-empty-list"),
        pytest.param(0, 0, "ok", id="no-update"),
    ],
)
def test_mass_property_updates_stop_apply_over_max_update_pct(
    updates: int, members: int, verdict: str
) -> None:
    figures = replace(FRESH, updates=updates, list_members=members)
    assert verdicts(figures)["update_share"] == verdict
    assert stopped(judge(figures, SyncConfiguration(), NOW)) == (verdict == "stop")


def test_the_update_limit_is_the_configured_one() -> None:
    figures = replace(FRESH, updates=80)
    assert update_share(figures, 50.0).detail == (
        "80 of 100 subscribed members would have their properties updated: 80.0 %, limit 50 % in [sync] "
        "max_update_pct: apply stops unless --force"
    )
    assert verdicts(figures, SyncConfiguration(max_update_pct=80.0))["update_share"] == "ok"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("removal_window_days", -1.0, id="negative-window"),
        pytest.param("max_update_pct", float("nan"), id="update-limit-not-a-number"),
    ],
)
def test_the_new_limits_are_checked_like_the_others(name: str, value: float) -> None:
    config = SyncConfiguration()
    setattr(config, name, value)
    with pytest.raises(CommandError, match=rf"\[sync\] {name}=.*give a number, 0 or more") as caught:
        config.check()
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("as_of", "verdict", "detail"),
    [
        pytest.param(None, "stop", "no Mailjet data has been extracted: run extract, then plan", id="never"),
        pytest.param(
            NOW - timedelta(hours=25),
            "stop",
            "Mailjet data extracted 25.0 h ago (limit 24 h in [sync] max_data_age_hours): run extract, then "
            "plan again",
            id="stale",
        ),
        pytest.param(
            NOW - timedelta(hours=2),
            "ok",
            "Mailjet data extracted 2.0 h ago (limit 24 h in [sync] max_data_age_hours)",
            id="fresh",
        ),
    ],
)
def test_old_or_missing_mailjet_data_stops_apply(as_of: datetime | None, verdict: str, detail: str) -> None:
    [age] = [g for g in judge(replace(FRESH, as_of=as_of), SyncConfiguration(), NOW) if g.name == "data_age"]
    assert (age.verdict, age.detail) == (verdict, detail)


def test_memberships_of_unknown_contacts_stop_apply() -> None:
    guards = judge(replace(FRESH, unmatched=1), SyncConfiguration(), NOW)
    assert guards[-1].name == "unmatched_members" and guards[-1].verdict == "stop"
    assert guards[-1].detail.startswith("1 membership of the list names a contact the extract did not list")
    assert stopped(guards)


@pytest.mark.parametrize(
    ("hours", "said"),
    [
        pytest.param(0.0, "0 minutes", id="now"),
        pytest.param(1 / 60, "1 minute", id="one-minute"),
        pytest.param(1.25, "1.2 h", id="hours"),
    ],
)
def test_ages_read_for_people(hours: float, said: str) -> None:
    assert ago(hours) == said
