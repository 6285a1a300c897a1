"""The data tests' great-expectations context: made once per process, in the background when a plan asks
for it early (`prepare`), and made again by the data tests themselves when that attempt failed."""

from __future__ import annotations

import threading
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from pipelines.sync import datatests


def frame() -> pd.DataFrame:
    return pd.DataFrame({"email": ["a@x.com", "bad", None, "a@x.com"], "firstname": ["A", "B", "C", "D"]})


@pytest.mark.unit
def test_a_context_prepared_in_the_background_is_the_one_the_data_tests_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(datatests, "_CONTEXTS", [])
    made: list[str] = []
    real = datatests._new_context

    def counted() -> Any:
        made.append(threading.current_thread().name)
        return real()

    monkeypatch.setattr(datatests, "_new_context", counted)
    thread = datatests.prepare()
    result = datatests.run_data_tests(frame(), ["firstname"], "prepared")  # waits for the thread if it must
    thread.join(timeout=60)
    assert made == ["great-expectations import"]  # once, and not in the caller's thread
    duplicate, invalid, missing = datatests.DUPLICATE, datatests.INVALID, datatests.MISSING
    assert result.failures == {0: duplicate, 1: invalid, 2: missing, 3: duplicate}
    assert result.missing_properties == []


@pytest.mark.unit
def test_a_failed_background_attempt_is_made_again_by_the_data_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(datatests, "_CONTEXTS", [])
    real = datatests._new_context
    attempts: list[str] = []

    def first_fails() -> Any:
        attempts.append(threading.current_thread().name)
        if len(attempts) == 1:
            raise OSError("no space left on device")
        return real()

    monkeypatch.setattr(datatests, "_new_context", first_fails)
    datatests.prepare().join(timeout=60)
    result = datatests.run_data_tests(frame(), ["country"], "again")
    assert attempts == ["great-expectations import", threading.current_thread().name]
    assert result.missing_properties == ["country"]


ADDRESSES = [
    "ann@example.org",
    "a b@example.org",
    "a\x1cb@example.org",  # a blank to Python, not to RE2's \s
    "a\x0bb@example.org",
    "ann@example.org\n",  # Python's `$` matches before a final line break
    "a\u2003b@example.org",
    "ann@localhost",
    "@example.org",
    "a@@example.org",
]


@pytest.mark.unit
def test_the_data_tests_and_the_ledger_read_an_address_alike() -> None:
    """The consent ledger's check (in SQL, on DuckDB) and the data tests (great-expectations, on pandas)
    call the same addresses invalid."""
    with duckdb.connect() as con:
        in_sql = {
            v
            for (v,) in con.execute(
                "select v from unnest(?::varchar[]) t(v) where not regexp_matches(v, ?)",
                [ADDRESSES, datatests.EMAIL_PATTERN],
            ).fetchall()
        }
    frame = pa.table({"email": ADDRESSES}).to_pandas()
    tested = datatests.run_data_tests(frame, [], "addresses")
    in_data_tests = {ADDRESSES[row] for row, why in tested.failures.items() if why == datatests.INVALID}
    assert in_sql == in_data_tests
    assert in_sql == set(ADDRESSES) - {"ann@example.org"}


@pytest.mark.unit
def test_the_data_tests_pattern_runs_in_pyarrow_not_row_by_row() -> None:
    """pandas runs a pattern pyarrow's engine cannot read the same way (`\\s`, for one) in Python, row by
    row: seconds at a million addresses."""
    column = pa.table({"email": ADDRESSES}).to_pandas()["email"].array
    assert not column._needs_python_regex(datatests.DATA_TEST_PATTERN)
