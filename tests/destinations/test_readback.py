"""The waits of read-after-write and how many changes they wait for, with plain data."""

from __future__ import annotations

import pytest

from destinations.mailjet_lists.readback import expected_shown, waits

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("limit", "planned"),
    [
        pytest.param(60.0, [0.5, 1, 2, 4, 8, 8, 8, 8, 8, 8, 4.5], id="default"),
        pytest.param(3.0, [0.5, 1, 1.5], id="short"),
        pytest.param(0.0, [], id="read-once"),
    ],
)
def test_the_waits_double_up_to_a_ceiling_and_add_up_to_the_limit(limit: float, planned: list[float]) -> None:
    assert waits(limit) == planned
    assert sum(waits(limit)) == pytest.approx(limit)


@pytest.mark.parametrize(
    ("job", "expected"),
    [
        pytest.param({"Status": "Completed", "Count": 0}, 10, id="completed-whatever-its-count"),
        pytest.param({"Status": "Error", "Count": 5}, 5, id="error-after-half"),
        pytest.param({"Status": "Error", "Count": 99}, 10, id="error-count-too-high"),
        pytest.param({"Status": "Abort", "Count": 0}, 0, id="abort-nothing-done"),
        pytest.param({"Status": "Error", "Count": True}, 0, id="bool-count"),
        pytest.param({"Status": "Error", "Count": "5"}, 0, id="text-count"),
        pytest.param({"Status": "Error"}, 0, id="no-count"),
    ],
)
def test_how_many_changes_to_wait_for(job: dict[str, object], expected: int) -> None:
    """A completed job's changes are waited for; a failed one's, as many as its Count says it processed."""
    assert expected_shown(job, 10) == expected
