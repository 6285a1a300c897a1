"""The writer's DuckDB connections wait out a reader. dlt opens the file afresh each time its connection
pool runs dry (between a run's steps, and for every SQL client); a `mailjet-elt sql` reader, or any
read-only connection, that opened the file in such a gap would make that open fail and the writing
command with it. Here the open is tried again until the reader has closed the file, for up to the
command's `--lock-wait`; only a reader that keeps the file longer fails the command (nothing lost:
the message says to rerun it)."""

from __future__ import annotations

import time
from typing import Any

import duckdb
from dlt.common.configuration import configspec
from dlt.destinations.impl.duckdb.configuration import DuckDbConnectionPool, DuckDbCredentials

from pipelines.settings import DEFAULT_LOCK_WAIT_SECONDS
from pipelines.warehouse.errors import lock_holder

RETRY_SECONDS = 0.05  # a reader of `mailjet-elt sql` holds the file for about as long as its query


class PatientPool(DuckDbConnectionPool):
    """dlt's pool, whose opening of the file waits while another process holds it."""

    def __init__(self, credentials: DuckDbCredentials, wait_seconds: float) -> None:
        super().__init__(credentials)
        self.wait_seconds = wait_seconds

    def borrow_conn(
        self,
        global_config: dict[str, Any] | None = None,
        local_config: dict[str, Any] | None = None,
        pragmas: list[str] | None = None,
    ) -> Any:
        """A connection, as dlt's pool gives it; an open that another process's lock refuses is tried
        again (a failed open changes nothing in the pool) until `wait_seconds` have passed."""
        deadline = time.monotonic() + self.wait_seconds
        while True:
            try:
                return super().borrow_conn(global_config, local_config, pragmas)  # type: ignore[arg-type]
            except duckdb.IOException as exc:
                if lock_holder(exc) is None or time.monotonic() >= deadline:
                    raise
                time.sleep(RETRY_SECONDS)


@configspec(init=False)
class PatientCredentials(DuckDbCredentials):
    """DuckDB credentials whose connection pool waits for a reader (see the module)."""

    wait_seconds: float = DEFAULT_LOCK_WAIT_SECONDS
    """How long an open of the file waits for another process to close it"""

    def on_resolved(self) -> None:
        # dlt calls each class's on_resolved in turn, its own (which makes a plain pool) first.
        self.conn_pool = PatientPool(self, self.wait_seconds)
