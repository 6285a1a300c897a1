"""Judging a finished bulk job into one outcome per change by what the list read back shows, with plain
data."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from destinations.mailjet_lists import log_batch
from destinations.mailjet_lists.mailjet import unsubscription_date
from destinations.mailjet_lists.outcomes import (
    Batch,
    Change,
    judge,
    kept_changes,
    refused_batch,
    report_errors,
)
from destinations.mailjet_lists.verify import NOT_SHOWN, recorded_mismatches

pytestmark = pytest.mark.unit


def plan_rows(*emails: str, run_id: int = 7) -> list[dict[str, Any]]:
    return [
        {"run_id": run_id, "audience": "vip", "list_id": 10, "email": e, "reason": "joined_audience"}
        for e in emails
    ]


def outcomes(changes: list[Change]) -> dict[str, tuple[str, str | None]]:
    return {c.email: (c.outcome, c.error) for c in changes}


MEMBERS = {"ann@x.com": False, "bob@x.com": True}  # what the list shows after the job: bob unsubscribed
COMPLETED = {"Status": "Completed"}


def test_a_completed_job_whose_changes_the_list_shows_has_every_change_done() -> None:
    changes = judge(plan_rows("ann@x.com", "Bob@x.com"), 10, "addnoforce", 55, COMPLETED, {}, MEMBERS)
    assert changes == [
        Change(7, "vip", 10, "ann@x.com", "addnoforce", "joined_audience", 55, "done", None),
        Change(7, "vip", 10, "Bob@x.com", "addnoforce", "joined_audience", 55, "done", None),
    ]


def test_what_the_list_does_not_show_is_refused_with_the_reports_text_whatever_the_case() -> None:
    report = report_errors({"Errors": [{"Email": " CAT@X.com ", "Error": "invalid address"}]})
    rows = plan_rows("ann@x.com", "bob@x.com", "Cat@x.com")
    changes = judge(rows, 10, "addnoforce", 55, COMPLETED, report, MEMBERS)
    assert outcomes(changes) == {
        "ann@x.com": ("done", None),
        "bob@x.com": ("done", None),  # a member, though unsubscribed: an add never re-subscribes
        "Cat@x.com": ("refused", "invalid address"),
    }


def test_the_list_wins_over_the_report() -> None:
    """A contact the report names that the list shows was applied: done."""
    report = {"ann@x.com": "refused", "cat@x.com": "blocked"}
    changes = judge(plan_rows("ann@x.com", "cat@x.com"), 10, "addnoforce", 55, COMPLETED, report, MEMBERS)
    assert outcomes(changes) == {"ann@x.com": ("done", None), "cat@x.com": ("refused", "blocked")}


@pytest.mark.parametrize(
    "count",
    [
        pytest.param(0, id="fewer"),
        pytest.param(1, id="one"),
        pytest.param(99, id="more"),
        pytest.param(True, id="bool"),
        pytest.param("3", id="text"),
        pytest.param(None, id="missing"),
    ],
)
def test_the_jobs_count_never_decides_an_outcome(count: object) -> None:
    """Whether `Count` counts refusals is undocumented: whatever it says, the list decides."""
    job = {"Status": "Completed", "Count": count}
    report = {"cat@x.com": "invalid address"}
    rows = plan_rows("ann@x.com", "bob@x.com", "cat@x.com")
    assert outcomes(judge(rows, 10, "unsub", 55, job, report, MEMBERS)) == {
        "ann@x.com": ("failed", NOT_SHOWN + "subscribed"),
        "bob@x.com": ("done", None),
        "cat@x.com": ("refused", "invalid address"),
    }


def test_a_completed_job_the_list_does_not_show_fails_with_what_the_list_shows() -> None:
    rows = plan_rows("ann@x.com", "bob@x.com", "cat@x.com")
    changes = judge(rows, 10, "remove", 55, COMPLETED, {}, MEMBERS)
    assert outcomes(changes) == {
        "ann@x.com": ("failed", NOT_SHOWN + "subscribed"),
        "bob@x.com": ("failed", NOT_SHOWN + "unsubscribed"),
        "cat@x.com": ("done", None),
    }
    failed = [(c.email, c.action, c.error) for c in changes if c.outcome == "failed"]
    assert recorded_mismatches(failed) == [
        {"email": "ann@x.com", "action": "remove", "found": "subscribed"},
        {"email": "bob@x.com", "action": "remove", "found": "unsubscribed"},
    ]


@pytest.mark.parametrize(
    ("job", "error"),
    [
        pytest.param({"Status": "Error", "Error": "list locked"}, "list locked", id="error-with-text"),
        pytest.param({"Status": "Abort"}, "job ended Abort", id="abort-without-text"),
        pytest.param({"Status": "Error", "Error": ""}, "job ended Error", id="error-empty-text"),
        pytest.param({"Status": "Finished"}, "job ended Finished", id="unknown-word"),
        pytest.param({}, "job ended without a status", id="no-status"),
    ],
)
def test_a_job_that_did_not_complete_has_done_what_the_list_shows_and_failed_the_rest(
    job: dict[str, Any], error: str
) -> None:
    """A job ending Error may have applied part of its batch: what the list shows is done."""
    report = {"cat@x.com": "invalid"}
    rows = plan_rows("ann@x.com", "cat@x.com", "dan@x.com")
    changes = judge(rows, 10, "addnoforce", 55, {**job, "Count": 0}, report, MEMBERS)
    assert outcomes(changes) == {
        "ann@x.com": ("done", None),
        "cat@x.com": ("refused", "invalid"),
        "dan@x.com": ("failed", error),
    }
    assert recorded_mismatches([(c.email, c.action, c.error) for c in changes]) == []
    assert {c.job_id for c in changes} == {55}


def test_an_update_is_judged_by_its_job_and_report() -> None:
    """Properties are not in a list's memberships: an update is done when its job completed and the
    report does not name it."""
    rows = plan_rows("ann@x.com", "cat@x.com")
    report = {"cat@x.com": "Object properties invalid"}
    assert outcomes(judge(rows, 10, "update", 55, COMPLETED, report, None)) == {
        "ann@x.com": ("done", None),
        "cat@x.com": ("refused", "Object properties invalid"),
    }
    assert outcomes(judge(rows, 10, "update", 55, {"Status": "Abort"}, {}, None)) == {
        "ann@x.com": ("failed", "job ended Abort"),
        "cat@x.com": ("failed", "job ended Abort"),
    }


@pytest.mark.parametrize(
    ("body", "named"),
    [
        pytest.param({"Errors": [{"Email": "A@x.com", "Error": "bad"}]}, {"a@x.com": "bad"}, id="object"),
        pytest.param({"Data": [{"Email": "a@x.com", "Error": "bad"}]}, {"a@x.com": "bad"}, id="data"),
        pytest.param([{"Email": "a@x.com", "Error": "bad"}], {"a@x.com": "bad"}, id="bare-list"),
        pytest.param({"errors": [{"email": "a@x.com", "error": "bad"}]}, {"a@x.com": "bad"}, id="lowercase"),
        pytest.param([{"email": "a@x.com"}], {"a@x.com": "refused"}, id="no-text"),
        pytest.param([{"EMAIL": "a@x.com", "ErrorMessage": "bad"}], {"a@x.com": "bad"}, id="error-message"),
        pytest.param({}, {}, id="empty-object"),
        pytest.param(None, {}, id="unreadable"),
        pytest.param("Not found", {}, id="text"),
        pytest.param({"Errors": "none"}, {}, id="odd-rows"),
        pytest.param(
            [1, None, {"Error": "no email"}, {"Email": "a@x.com"}], {"a@x.com": "refused"}, id="mixed"
        ),
    ],
)
def test_a_report_in_any_shape_gives_only_the_text_it_can(body: object, named: dict[str, str]) -> None:
    assert report_errors(body) == named


def test_kept_removals_are_skipped_with_the_reason_and_no_job() -> None:
    [skipped] = kept_changes(plan_rows("ann@x.com"), 10, "remove")
    assert (skipped.outcome, skipped.job_id, skipped.unsubscribed_at) == ("skipped", None, None)
    assert skipped.error == "unsubscribed since the plan: kept, with their unsubscription"
    [dated] = kept_changes(plan_rows("Ann@X.com"), 10, "remove", {"ann@x.com": "2026-06-01T10:00:00Z"})
    assert dated.unsubscribed_at == "2026-06-01T10:00:00Z"  # what the durable record is dated with


def test_a_batch_mailjet_would_not_take_fails_every_change() -> None:
    batch = refused_batch(plan_rows("ann@x.com", "bob@x.com"), 10, "addnoforce", "list 10 not found")
    assert (batch.job_id, batch.status) == (0, "refused")
    assert outcomes(batch.changes) == {
        "ann@x.com": ("failed", "list 10 not found"),
        "bob@x.com": ("failed", "list 10 not found"),
    }


def test_the_default_record_logs_each_batchs_outcomes(caplog: pytest.LogCaptureFixture) -> None:
    changes = judge(plan_rows("ann@x.com", "bob@x.com"), 10, "addnoforce", 55, COMPLETED, {}, MEMBERS)
    changes += kept_changes(plan_rows("cat@x.com"), 10, "addnoforce")
    with caplog.at_level(logging.INFO, logger="destinations.mailjet_lists"):
        log_batch(Batch(10, "addnoforce", 55, "Completed", changes))
        log_batch(Batch(10, "remove", 0, "skipped", kept_changes(plan_rows("dan@x.com"), 10, "remove")))
        log_batch(Batch(10, "addnoforce", 57, "Completed", changes[:2], more_jobs=(56,), split_requests=4))
    assert caplog.messages == [
        "mailjet_lists: job 55 Completed: addnoforce on list 10: 2 done, 1 skipped",
        "mailjet_lists: no job: remove on list 10: 1 skipped",
        "mailjet_lists: job 57 Completed: addnoforce on list 10: 2 done (in 2 jobs, 4 more requests)",
    ]


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        pytest.param("2026-06-01T10:00:00Z", "2026-06-01T10:00:00+00:00", id="mailjet-utc"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="missing"),
        pytest.param("not a time", None, id="strange"),
    ],
)
def test_an_unsubscription_date_is_kept_only_when_it_is_a_time(given: object, kept: str | None) -> None:
    """What the durable record is dated with: a strange value never breaks recording a finished job."""
    assert unsubscription_date(given) == kept
