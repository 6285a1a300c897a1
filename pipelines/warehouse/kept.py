"""A writing command keeps its DuckDB file open while it works in it. DuckDB shares one database instance
among a process's connections to one file, so while this connection is open, each connection dlt opens
for a step (eight to twenty-six per command) is a cheap new handle on that instance, instead of the file
opened afresh (its catalog read, its settings applied: about 20 ms of CPU) and closed again (a checkpoint).

While the file is kept, another process cannot open it, not even to read. So it is let go while the
command reads Mailjet or a file (`released()`), which is most of a long extract, and while `apply` sends
and waits; a reader of `mailjet-elt sql` waits out the rest, as it waits out any writer's step."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pipelines.warehouse.errors import WarehouseBusy, WarehouseError, lock_holder, raise_if_busy

RETRY_SECONDS = 0.5  # between tries to open a file another process holds


class KeptOpen:
    """The DuckDB file at `path` (`--db` is `db`), kept open by this process between `open()` and
    `close()`. It is opened as dlt opens it (read-write, no connection settings), or DuckDB would refuse
    dlt's connections."""

    def __init__(self, path: Path, db: str, wait_seconds: float, on_wait: Callable[[str], None]) -> None:
        self.path = path
        self.db = db
        self.wait_seconds = wait_seconds
        self.on_wait = on_wait
        self._connection: duckdb.DuckDBPyConnection | None = None

    def open(self, command: str | None = None) -> None:
        """Open the file, waiting up to `wait_seconds` for another process that holds it. The first open
        (`command` None) checks the file before any work: one that is not a database or cannot be written
        raises WarehouseError, a holder that outlasts the wait WarehouseBusy. Opened again mid-run, by
        `command`, a holder that outlasts the wait raises WarehouseBusy saying that a rerun finishes."""
        if self._connection is not None:
            return
        deadline = time.monotonic() + self.wait_seconds
        told = False
        while True:
            try:
                self._connection = duckdb.connect(str(self.path))
                return
            except duckdb.IOException as exc:
                text = str(exc)
                if "lock" not in text.lower():
                    raise WarehouseError(duckdb_problem(self.db, self.path, text)) from None
                if time.monotonic() >= deadline:
                    if command is not None:
                        raise_if_busy(exc, f"`{command}`")
                    raise WarehouseBusy(
                        f"the database {self.path} is open in another process ({lock_holder(exc)}); waited "
                        f"{self.wait_seconds:g} s. Close that connection (a DuckDB shell or notebook has it "
                        "open) and run this command again, or wait longer with --lock-wait SECONDS"
                    ) from None
                if not told:
                    self.on_wait(
                        f"the database file is open in another process; waiting up to {self.wait_seconds:g} s"
                    )
                    told = True
                time.sleep(RETRY_SECONDS)
            except duckdb.Error as exc:
                raise WarehouseError(duckdb_problem(self.db, self.path, str(exc))) from None

    def close(self) -> None:
        """Let the file go (once dlt's own connections are closed too, other processes can open it)."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()

    @contextmanager
    def released(self, command: str) -> Iterator[None]:
        """Let the file go for the block (reading Mailjet or a file); kept again after it, waiting for a
        reader that opened it meanwhile. A block that fails leaves it let go: what follows, if anything,
        opens the file itself."""
        kept = self._connection is not None
        self.close()
        yield
        if kept:
            self.open(command)


def duckdb_problem(db: str, path: Path, text: str) -> str:
    """What is wrong with the file at `path`, from DuckDB's error `text`, and the fix."""
    first = text.splitlines()[0] if text else "unknown error"
    if "not a valid DuckDB database" in text or ("database file" in text.lower() and "valid" in text):
        return (
            f"--db {db}: {path} is not a DuckDB database ({first}). Point --db at a DuckDB file, or at a new "
            "path to create one"
        )
    if "Read-only file system" in text or "Permission denied" in text or "Cannot open file" in text:
        return f"--db {db}: cannot write {path} ({first}); choose a writable location"
    return f"--db {db}: cannot open {path} as a DuckDB database ({first})"
