"""The write check's readings from plain observations: the cases no sandbox quirk produces."""

from __future__ import annotations

from typing import Any

import pytest

from pipelines.check_writes.readings import (
    NOT_OBSERVED,
    JobSeen,
    Observations,
    count,
    error_file,
    read_all,
    report,
    running_status,
)

pytestmark = pytest.mark.unit


def job(statuses: list[str], **final: Any) -> JobSeen:
    return JobSeen("addnoforce", 1, statuses, {"Status": statuses[-1], **final}, clean=True)


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        pytest.param(["Completed"], NOT_OBSERVED, id="ended-by-first-poll"),
        pytest.param(["Allocated", "Importing", "Completed"], "guide", id="guide"),
        pytest.param(["In Progress", "Error"], "in-progress", id="node-sdk"),
        pytest.param(["Queued", "Completed"], "other", id="unknown-word"),
    ],
)
def test_the_running_status_word(statuses: list[str], expected: str) -> None:
    assert running_status([job(statuses)]).reading == expected


@pytest.mark.parametrize(
    ("value", "applied", "expected"),
    [
        pytest.param(2, 2, "applied", id="applied"),
        pytest.param(4, 2, "processed", id="refusals-counted"),
        pytest.param(1, 2, "other", id="fewer-than-applied"),
        pytest.param("2", 2, "other", id="not-a-number"),
        pytest.param(4, 4, NOT_OBSERVED, id="nothing-refused"),
    ],
)
def test_what_count_counts(value: object, applied: int, expected: str) -> None:
    seen = Observations(count_job=job(["Completed"], Count=value), count_sent=4, count_applied=applied)
    assert count(seen).reading == expected


def test_report_rows_under_data_and_a_body_of_no_known_shape() -> None:
    under_data = report((200, {"Data": [{"Email": "x", "Error": "y"}]}))
    assert (under_data["report_shape"].reading, under_data["report_keys"].reading) == (
        "object",
        "capitalized",
    )
    odd = report((200, "Error file not ready"))
    assert (odd["report_shape"].reading, odd["report_keys"].reading) == ("other", NOT_OBSERVED)


def test_errorfile_never_set_is_not_observed() -> None:
    readings = error_file([job(["Completed"], ErrorFile="")])
    assert readings["errorfile_form"].reading == NOT_OBSERVED
    assert readings["errorfile_without_errors"].reading == "empty"


def test_a_check_stopped_midway_says_where_for_what_it_did_not_see() -> None:
    readings = read_all(Observations(), stopped="the update job: 500")
    assert readings["property_coercion"].reading == NOT_OBSERVED
    assert "the check stopped before it (the update job: 500)" in readings["property_coercion"].detail
    assert readings["webhook_retry"].reading == NOT_OBSERVED
