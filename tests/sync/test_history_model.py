"""`mailjet_models.sync_history` after real plans and applies on the sandbox: its figures equal the counts of
the sync's own audit trail (`sync_runs`, `sync_plan`, `sync_changelog`, `sync_rejections`) read row by row
in Python. The extract publishes the model before any plan (over empty stand-ins of those tables); the
first plan publishes it again over the tables it created."""

from __future__ import annotations

from collections import Counter
from datetime import UTC
from pathlib import Path
from typing import Any

from pipelines.apply import apply
from pipelines.extract import extract
from pipelines.load import load
from pipelines.plan import plan
from pipelines.sync.config import SyncConfiguration
from tests.conftest import Api
from tests.sync.conftest import rows, write_profiles

ACTIONS = {"addnoforce": "adds", "unsub": "unsubs", "remove": "removes", "update": "updates"}


def history(db: Path) -> dict[tuple[Any, ...], dict[str, int]]:
    """The model's rows: (audience, list_id, list_name, planned_on) -> its figures."""
    columns = [r[0] for r in rows(db, "select column_name from (describe mailjet_models.sync_history)")]
    return {
        tuple(r[:4]): dict(zip(columns[4:], r[4:], strict=True))
        for r in rows(db, "select * from mailjet_models.sync_history")
    }


def audit_trail(db: Path) -> dict[tuple[Any, ...], dict[str, int]]:
    """The same figures, counted in Python from the rows of the sync's tables."""
    day_of = {}
    want: dict[tuple[Any, ...], Counter[str]] = {}
    for run_id, audience, list_id, list_name, planned_at, mismatches in rows(
        db, "select run_id, audience, list_id, list_name, planned_at, mismatches from mailjet_sync.sync_runs"
    ):
        key = (audience, list_id, list_name, planned_at.astimezone(UTC).date())
        day_of[run_id] = key
        figures = want.setdefault(key, Counter())
        figures["runs"] += 1
        figures["mismatches"] += mismatches or 0
    for run_id, action in rows(db, "select run_id, action from mailjet_sync.sync_plan"):
        want[day_of[run_id]][f"{ACTIONS[action]}_planned"] += 1
    for run_id, action, outcome in rows(
        db, "select run_id, action, outcome from mailjet_sync.sync_changelog"
    ):
        kind = outcome if outcome in ("done", "refused", "skipped") else "failed"
        want[day_of[run_id]]["skipped" if kind == "skipped" else f"{ACTIONS[action]}_{kind}"] += 1
    for run_id, stage in rows(db, "select run_id, stage from mailjet_sync.sync_rejections"):
        if stage in ("data_test", "plan"):
            want[day_of[run_id]]["rejected" if stage == "data_test" else "held_back"] += 1
    return {key: dict(figures) for key, figures in want.items()}


def nonzero(found: dict[tuple[Any, ...], dict[str, int]]) -> dict[tuple[Any, ...], dict[str, int]]:
    return {key: {k: v for k, v in figures.items() if v} for key, figures in found.items()}


def test_sync_history_counts_the_runs_changes_and_rejections_of_a_plan_and_an_apply(
    synced: tuple[Api, Path, int, list[str]], tmp_path: Path
) -> None:
    _, db, fans, people = synced
    # The fixture extracted (the model published over stand-ins), planned and applied: the plan published
    # it again over the real tables, no load since.
    first = history(db)
    assert nonzero(first) == nonzero(audit_trail(db))
    [(key, figures)] = first.items()
    assert key[:3] == ("fans", fans, "Fans")
    assert (figures["runs"], figures["adds_planned"], figures["adds_done"]) == (1, len(people), len(people))

    # Ten people leave the audience, and a row fails a data test: removes, and a rejection.
    write_profiles(tmp_path / "profiles.csv", [*people[10:], "not an email"])
    load(db=str(db), file=str(tmp_path / "profiles.csv"), table="profiles")
    extract(db=str(db))
    source = str(tmp_path / "audiences.sql")
    plan(db=str(db), audiences=source, config=SyncConfiguration(max_removal_pct=100))
    [run] = apply(db=str(db), yes=True, audiences=source).runs
    assert run.status == "applied"

    got = history(db)
    want = audit_trail(db)
    assert nonzero(got) == nonzero(want)
    [(key, figures)] = got.items()  # both runs planned today
    assert figures["runs"] == 2
    assert (figures["removes_planned"], figures["removes_done"]) == (10, 10)
    assert figures["rejected"] == 1
    assert sum(figures.values()) == sum(want[key].values())
