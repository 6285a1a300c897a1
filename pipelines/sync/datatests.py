"""The data tests every audience passes before any diff, with great-expectations: the email is present,
valid and unique (compared trimmed and lowercased), and each declared property is a column. A row that
fails is left out of the sync and recorded, with its reason, in `mailjet_sync.sync_rejections`."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec, PathFinder
from importlib.util import LazyLoader
from itertools import count
from types import ModuleType
from typing import Any

import pandas as pd

# What Python's `\s` matches, written out: `\s` means less in RE2 (DuckDB's and pyarrow's engine: no \v,
# no \x1c-\x1f) and varies with the engine, while a class of characters reads the same everywhere. With
# `\s`, pandas would also run the data tests' pattern in Python, row by row (about a second of CPU at a
# million addresses) instead of in pyarrow.
BLANKS = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Roughly what Mailjet accepts: something, one @, a domain with a dot; no blanks. (The consent ledger's
# check in SQL.)
EMAIL_PATTERN = f"^[^@{BLANKS}]+@[^@{BLANKS}]+[.][^@{BLANKS}]+$"
# The same for the data tests: `\Z` is the end of the value in Python (`$` also matches before a final
# line break), and pandas hands it to pyarrow as RE2's `\z`.
DATA_TEST_PATTERN = EMAIL_PATTERN.removesuffix("$") + "\\Z"
# The reasons, in the order they are given when a row fails several tests.
MISSING, INVALID, DUPLICATE = "missing_email", "invalid_email", "duplicate_email"
EXPECTATIONS = {
    "expect_column_values_to_not_be_null": MISSING,
    "expect_column_values_to_match_regex": INVALID,
    "expect_column_values_to_be_unique": DUPLICATE,
}

# great-expectations imports these for expectations and charts the data tests never use: about a second of
# CPU in every process that plans. They are loaded when first used instead (stdlib's LazyLoader).
DEFERRED = ("scipy.stats", "altair")


_RUNS = count()


@dataclass(frozen=True)
class TestOutcome:
    """One expectation's verdict."""

    expectation: str
    column: str
    success: bool
    failing_rows: int


@dataclass(frozen=True)
class DataTestResult:
    """The verdicts, and the failing rows: position in the frame -> reason."""

    outcomes: list[TestOutcome]
    failures: dict[int, str]
    missing_properties: list[str]


class _Deferred(MetaPathFinder):
    """Finds the DEFERRED modules where the path finder does, with a loader that runs them on first use."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname not in DEFERRED:
            return None
        spec = PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        spec.loader = LazyLoader(spec.loader)
        return spec


@contextlib.contextmanager
def _deferred_imports() -> Iterator[None]:
    finder = _Deferred()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


_CONTEXT_LOCK = threading.Lock()
_CONTEXTS: list[Any] = []  # the one context of the process, once made


def _context() -> Any:
    """The process's great-expectations context, made on first use (or by `prepare`, in the background);
    a caller waits while another thread makes it."""
    with _CONTEXT_LOCK:
        if not _CONTEXTS:
            _CONTEXTS.append(_new_context())
        return _CONTEXTS[0]


def prepare() -> threading.Thread:
    """Import great-expectations and make its context in a thread of its own, while the caller goes on:
    the import is seconds of Python, and a plan's SQL runs meanwhile (the engine lets go of the GIL). Any
    error is left for the data tests themselves to raise, when they make the context again."""

    def make() -> None:
        with contextlib.suppress(Exception):
            _context()

    thread = threading.Thread(target=make, name="great-expectations import", daemon=True)
    thread.start()
    return thread


def _new_context() -> Any:
    """An in-memory great-expectations context that sends nothing anywhere and draws no progress bars
    (one per process: each validation adds its own data source to it)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    with _deferred_imports():
        import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    for name in ("great_expectations", "great_expectations.core"):
        logging.getLogger(name).setLevel(logging.ERROR)
    # A batch's fingerprint (a hash of every value, kept as a marker beside the results, read by nothing
    # here): it turned a million addresses into Python objects, about a second and 300 MB at its peak.
    # Frames past the threshold get none; with 0, none does. The validation itself is unchanged.
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0
    config = DataContextConfig(
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
        store_backend_defaults=InMemoryStoreBackendDefaults(),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def run_data_tests(frame: pd.DataFrame, properties: Sequence[str], name: str) -> DataTestResult:
    """Validate `frame` (an `email` column, already trimmed and lowercased, None when absent or empty;
    and the audience's other columns) with great-expectations."""
    context = _context()  # first: it imports great-expectations
    import great_expectations as gx
    from great_expectations.expectations.core.expect_column_to_exist import ExpectColumnToExist
    from great_expectations.expectations.core.expect_column_values_to_be_unique import (
        ExpectColumnValuesToBeUnique,
    )
    from great_expectations.expectations.core.expect_column_values_to_match_regex import (
        ExpectColumnValuesToMatchRegex,
    )
    from great_expectations.expectations.core.expect_column_values_to_not_be_null import (
        ExpectColumnValuesToNotBeNull,
    )

    source = context.data_sources.add_pandas(f"audience_{name}_{next(_RUNS)}")
    try:
        asset = source.add_dataframe_asset(name)
        definition = asset.add_batch_definition_whole_dataframe("all")
        batch = definition.get_batch(batch_parameters={"dataframe": frame})
        suite = gx.ExpectationSuite(f"audience_{name}")
        suite.add_expectation(ExpectColumnValuesToNotBeNull(column="email"))
        suite.add_expectation(ExpectColumnValuesToMatchRegex(column="email", regex=DATA_TEST_PATTERN))
        suite.add_expectation(ExpectColumnValuesToBeUnique(column="email"))
        for prop in properties:
            suite.add_expectation(ExpectColumnToExist(column=prop))
        result = batch.validate(suite, result_format={"result_format": "COMPLETE"})
        del batch
    finally:  # the context would keep the source, its batch and so the frame, for as long as the process
        context.data_sources.delete(source.name)
    outcomes: list[TestOutcome] = []
    failures: dict[int, str] = {}
    missing: list[str] = []
    found: dict[str, list[int]] = {}
    for item in result.results:
        kind = item.expectation_config.type
        column = str(item.expectation_config.kwargs.get("column"))
        rows = [int(i) for i in (item.result or {}).get("unexpected_index_list") or []]
        outcomes.append(TestOutcome(kind, column, bool(item.success), len(rows)))
        if kind == "expect_column_to_exist":
            if not item.success:
                missing.append(column)
        elif kind in EXPECTATIONS:
            found[EXPECTATIONS[kind]] = rows
    for reason in (MISSING, INVALID, DUPLICATE):  # the first failing test names a row's reason
        for row in found.get(reason, []):
            failures.setdefault(row, reason)
    return DataTestResult(outcomes, failures, missing)
