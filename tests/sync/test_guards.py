"""The guards of a plan (design §7.4) as plain rules over a run's figures: no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from pipelines.sync.config import SyncConfiguration
from pipelines.sync.guards import PlanFigures, ago, judge, stopped

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
        ("data_age", "ok"),
    ]
    assert not stopped(guards)
    assert guards[0].detail == "100 usable rows"
    assert guards[3].detail == "Mailjet data extracted 30 minutes ago (limit 24 h)"


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
        f"{rejected} of 100 rows failed the data tests ({rejected:.1f} %, limit 5 %)"
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


@pytest.mark.parametrize(
    ("as_of", "verdict", "detail"),
    [
        pytest.param(None, "stop", "no Mailjet data has been extracted: run extract, then plan", id="never"),
        pytest.param(
            NOW - timedelta(hours=25),
            "stop",
            "Mailjet data extracted 25.0 h ago (limit 24 h): run extract, then plan again",
            id="stale",
        ),
        pytest.param(
            NOW - timedelta(hours=2), "ok", "Mailjet data extracted 2.0 h ago (limit 24 h)", id="fresh"
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
