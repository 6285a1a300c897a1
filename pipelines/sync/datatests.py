"""The data tests every audience passes before any diff, with great-expectations: the email is present,
valid and unique (compared trimmed and lowercased), and each declared property is a column. A row that
fails is left out of the sync and recorded, with its reason, in `mailjet_sync.sync_rejections`."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec, PathFinder
from importlib.util import LazyLoader
from itertools import count
from types import ModuleType
from typing import Any

import pandas as pd

# Roughly what Mailjet accepts: something, one @, a domain with a dot; no spaces.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
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


@cache
def _context() -> Any:
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
        suite.add_expectation(ExpectColumnValuesToMatchRegex(column="email", regex=EMAIL_PATTERN))
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
