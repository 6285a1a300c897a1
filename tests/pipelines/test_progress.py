"""Progress lines of long extracts."""

from __future__ import annotations

import io

import pytest

from pipelines.progress import ExtractProgress

pytestmark = pytest.mark.unit


def test_progress_reports_rows_fetched_against_rows_counted() -> None:
    out = io.StringIO()
    progress = ExtractProgress(out, every=0)
    progress("contacts", 0, 2500)
    progress("contacts", 1000, 0)
    progress("messages", 0, 10)
    progress("messages", 10, 0)
    lines = out.getvalue().splitlines()
    assert len(lines) == 4
    assert "1,000 rows fetched" in lines[1] and "contacts 1,000/2,500" in lines[1]
    assert lines[3].startswith("extract: 1,010 rows fetched") and "messages" not in lines[3]


def test_progress_stays_quiet_between_intervals() -> None:
    out = io.StringIO()
    progress = ExtractProgress(out, every=3600)
    for _ in range(100):
        progress("contacts", 1000, 0)
    assert out.getvalue() == ""
