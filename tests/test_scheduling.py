"""How `make test` shares the suite between its two workers (tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.conftest import worker_scope


@pytest.mark.unit
def test_the_crash_safety_modules_go_to_one_worker_and_every_other_module_alone() -> None:
    crash = {
        worker_scope("tests/pipelines/test_crash_safety.py::test_two_extracts_at_once_take_turns"),
        worker_scope("tests/pipelines/test_crash_kills_import.py::test_killed_imports_are_resumed"),
        worker_scope("tests/pipelines/test_crash_signals.py::test_interrupted_extract[ctrl-c-late]"),
    }
    assert len(crash) == 1
    assert worker_scope("tests/sync/test_apply.py::test_x") == "tests/sync/test_apply.py"
    assert worker_scope("tests/pipelines/test_cli.py::test_y[a::b]") == "tests/pipelines/test_cli.py"
    assert worker_scope("tests/sync/test_apply.py::test_x") not in crash
