"""The waits of read-after-write, with plain numbers."""

from __future__ import annotations

import pytest

from destinations.mailjet_lists.readback import waits

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
