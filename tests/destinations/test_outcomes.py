"""Judging a finished bulk job into one outcome per change, with plain data."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from destinations.mailjet_lists import log_batch
from destinations.mailjet_lists.mailjet import unsubscription_date
from destinations.mailjet_lists.outcomes import Batch, Change, judge, kept_changes, refused_batch

pytestmark = pytest.mark.unit


def plan_rows(*emails: str, run_id: int = 7) -> list[dict[str, Any]]:
    return [
        {"run_id": run_id, "audience": "vip", "list_id": 10, "email": e, "reason": "joined_audience"}
        for e in emails
    ]


def outcomes(changes: list[Change]) -> dict[str, tuple[str, str | None]]:
    return {c.email: (c.outcome, c.error) for c in changes}


def test_a_completed_job_with_a_clean_report_has_every_change_done() -> None:
    changes = judge(plan_rows("ann@x.com", "bob@x.com"), 10, "addnoforce", 55, {"Status": "Completed"}, [])
    assert changes == [
        Change(7, "vip", 10, "ann@x.com", "addnoforce", "joined_audience", 55, "done", None),
        Change(7, "vip", 10, "bob@x.com", "addnoforce", "joined_audience", 55, "done", None),
    ]


def test_a_completed_job_refuses_the_contacts_its_report_names_whatever_their_case() -> None:
    report = [{"Email": " BOB@X.com ", "Error": "invalid address"}, {"Email": "cat@x.com"}]
    job = {"Status": "Completed", "Count": 1}
    changes = judge(plan_rows("ann@x.com", "Bob@x.com", "cat@x.com"), 10, "unsub", 55, job, report)
    assert outcomes(changes) == {
        "ann@x.com": ("done", None),
        "Bob@x.com": ("refused", "invalid address"),
        "cat@x.com": ("refused", "refused"),  # a report row without an error text
    }


def test_a_count_the_report_does_not_account_for_leaves_the_others_unknown() -> None:
    report = [{"Email": "bob@x.com", "Error": "blocked"}]
    job = {"Status": "Completed", "Count": 3}  # says 3 applied, of 3 sent, one of them refused
    changes = judge(plan_rows("ann@x.com", "bob@x.com", "cat@x.com"), 10, "remove", 55, job, report)
    note = "the job applied 3 of 3 contacts and its report names 1"
    assert outcomes(changes) == {
        "ann@x.com": ("unknown", note),
        "bob@x.com": ("refused", "blocked"),
        "cat@x.com": ("unknown", note),
    }


def test_a_count_that_accounts_for_the_report_is_done() -> None:
    job = {"Status": "Completed", "Count": 1}
    report = [{"Email": "bob@x.com", "Error": "blocked"}]
    changes = judge(plan_rows("ann@x.com", "bob@x.com"), 10, "addnoforce", 55, job, report)
    assert outcomes(changes) == {"ann@x.com": ("done", None), "bob@x.com": ("refused", "blocked")}


@pytest.mark.parametrize("count", [pytest.param(True, id="true"), pytest.param(False, id="false")])
def test_a_bool_count_is_not_a_count(count: bool) -> None:
    changes = judge(
        plan_rows("ann@x.com", "bob@x.com"), 10, "addnoforce", 55, {"Status": "Completed", "Count": count}, []
    )
    assert {c.outcome for c in changes} == {"done"}


@pytest.mark.parametrize(
    ("job", "error"),
    [
        pytest.param({"Status": "Error", "Error": "list locked"}, "list locked", id="error-with-text"),
        pytest.param({"Status": "Abort"}, "job ended Abort", id="abort-without-text"),
        pytest.param({"Status": "Error", "Error": ""}, "job ended Error", id="error-empty-text"),
    ],
)
def test_a_failed_job_fails_every_change_with_its_error(job: dict[str, Any], error: str) -> None:
    report = [{"Email": "ann@x.com", "Error": "invalid"}]  # a failed job's report changes nothing
    changes = judge(plan_rows("ann@x.com", "bob@x.com"), 10, "unsub", 55, {**job, "Count": 0}, report)
    assert outcomes(changes) == {"ann@x.com": ("failed", error), "bob@x.com": ("failed", error)}
    assert {c.job_id for c in changes} == {55}


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
    changes = judge(plan_rows("ann@x.com", "bob@x.com"), 10, "addnoforce", 55, {"Status": "Completed"}, [])
    changes += kept_changes(plan_rows("cat@x.com"), 10, "addnoforce")
    with caplog.at_level(logging.INFO, logger="destinations.mailjet_lists"):
        log_batch(Batch(10, "addnoforce", 55, "Completed", changes))
        log_batch(Batch(10, "remove", 0, "skipped", kept_changes(plan_rows("dan@x.com"), 10, "remove")))
    assert caplog.messages == [
        "mailjet_lists: job 55 Completed: addnoforce on list 10: 2 done, 1 skipped",
        "mailjet_lists: no job: remove on list 10: 1 skipped",
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
