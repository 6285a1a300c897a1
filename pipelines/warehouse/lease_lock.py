"""One writer per warehouse across machines, where the warehouse has no lock to lend: a leased row.

BigQuery, Snowflake, Databricks and MotherDuck have no session lock a client can hold (and a PostgreSQL
reached through a pooler in transaction mode loses the session's advisory lock between statements). There
the writer lock is one row of `mailjet_sync.writer_lease`: a writer takes it with one conditional
UPDATE (free, or run out), so of two writers taking it at once the warehouse lets one in; it names itself
in the row, renews its lease from a thread of its own while it works, and frees the row when done. A
writer killed with SIGKILL cannot free it: the next writer waits until the lease runs out
(`lease_seconds`, 120 by default), then takes it. Every time is the warehouse's clock, never a machine's.

A writer that cannot renew for a whole lease (stopped, or cut off from the warehouse) may find the row
taken by another when it is back: it says so when it ends, with exit 1, so that the schedule looks at it.
The waiting and its messages are the file lock's."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

from dlt.destinations.exceptions import DatabaseException
from dlt.destinations.sql_client import SqlClientBase

from pipelines import models
from pipelines.warehouse.lock import wait_until_taken
from pipelines.warehouse.server_lock import KEY_NAME, session_name

STATEMENTS = models.MODELS_FOLDER / "writer_lease"
DEFAULT_LEASE_SECONDS = 120.0
MIN_LEASE_SECONDS, MAX_LEASE_SECONDS = 1.0, 86_400.0  # renewed four times per lease: not more than 4/s
RENEWALS_PER_LEASE = 4  # the holder renews four times per lease: three may fail before it runs out


class LeaseLost(Exception):
    """The lease ran out while its holder worked, and another writer took it."""


class LeaseNotFreed(Exception):
    """The holder could not free its lease at the end (the warehouse out of reach): it runs out."""


class LeaseLock:
    """Held for the whole of a writing command, on a connection of its own (used by the renewing thread
    once taken). `wait_seconds` and `on_wait` as for the file lock (WriterLock)."""

    def __init__(
        self,
        client: SqlClientBase[Any],
        command: str,
        wait_seconds: float,
        on_wait: Callable[[str], None] | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        self.client = client
        self.command = command
        self.wait_seconds = wait_seconds
        self.on_wait = on_wait
        self.lease_seconds = lease_seconds
        self.token = uuid.uuid4().hex
        self._dialect = models.dialect_of(client)
        self._held = False
        self._stop = threading.Event()
        self._renewing: threading.Thread | None = None
        self.lost: str | None = None  # who took the lease from us, when it ran out while we worked

    def acquire(self) -> None:
        """Take the lease, waiting up to `wait_seconds`; raises LockTimeout. Connection failures are
        dlt's (DestinationConnectionError), as for any command on the warehouse."""
        self.client.open_connection()
        try:
            self._prepare()
            self._wait()
        except BaseException:  # a timeout, or a Ctrl-C while waiting (perhaps just after taking it)
            with suppress(Exception):
                self._run("free", KEY_NAME, self.token)  # ours only: a lease never taken is not touched
            self.client.close_connection()
            raise
        self._held = True
        self._renewing = threading.Thread(target=self._renew_until_stopped, name="writer-lease", daemon=True)
        self._renewing.start()

    def _prepare(self) -> None:
        """The lease's table and row, created by the first writer of the warehouse. Two first writers
        creating them at once: the loser's statement fails, and the table is there when it looks again."""
        for attempt in range(2):
            try:
                self._run("dataset")
                self._run("table")
                break
            except DatabaseException:
                if attempt:
                    raise
        self._run("row", KEY_NAME, KEY_NAME)

    def _wait(self) -> None:
        wait_until_taken(self._take, self.holder, self.wait_seconds, self.on_wait)

    def _take(self) -> bool:
        """Take the lease if it is free or has run out. While another holds it, only a read (a waiter
        writes nothing: on BigQuery each update is a job); an update that loses to another writer's
        (Delta's and BigQuery's conflicts) is a lease not taken."""
        rows = self._rows("held", KEY_NAME)
        if rows and any(row[0] not in (None, self.token) and not row[4] for row in rows):
            return False
        expires = self._now() + timedelta(seconds=self.lease_seconds)
        with suppress(DatabaseException):
            self._run("take", session_name(self.command), self.token, expires, KEY_NAME)
        return self._mine()

    def _mine(self) -> bool:
        rows = self._rows("held", KEY_NAME)
        return bool(rows) and all(row[0] == self.token for row in rows)

    def holder(self) -> str:
        """Who holds the lease, as it named itself: "`mailjet-elt extract` (pid 12 on host-b, since …,
        leased till …)"; "another writer" when the row names no one of ours."""
        rows = [row for row in self._rows("held", KEY_NAME) if row[0] is not None]
        if not rows:
            return "another writer (done since)"
        if not str(rows[0][1] or "").startswith("mailjet-elt "):
            return "another writer (the warehouse's writer lease)"
        _, name, taken_at, expires_at, _ = rows[0]
        command, _, where = str(name).partition(" (")
        return f"`{command}` ({where.rstrip(')')}, since {_at(taken_at)}, leased till {_at(expires_at)})"

    def _renew_until_stopped(self) -> None:
        """Every quarter of the lease, push its end a lease ahead; a renewal that fails is tried again at
        the next tick. Stops at release, or once another writer holds the row (the lease ran out)."""
        while not self._stop.wait(self.lease_seconds / RENEWALS_PER_LEASE):
            try:
                expires = self._now() + timedelta(seconds=self.lease_seconds)
                self._run("renew", expires, KEY_NAME, self.token)
                if not self._mine():
                    self.lost = self.holder()
                    return
            except Exception:  # noqa: BLE001 - a warehouse out of reach: the next tick tries again
                continue

    def release(self) -> None:
        """Stop renewing and free the row, so the next writer need not wait for the lease to run out.
        Raises LeaseLost when the lease ran out while the command worked and another writer took it."""
        if not self._held:
            return
        self._held = False
        self._stop.set()
        if self._renewing is not None:
            self._renewing.join(timeout=self.lease_seconds)
            if self._renewing.is_alive():  # stuck in a statement: its connection is not ours to use
                raise LeaseNotFreed(self._not_freed("the warehouse does not answer"))
        try:
            try:
                if self.lost is None and not self._mine():  # ran out since the last renewal
                    self.lost = self.holder()
            except DatabaseException:
                pass  # cannot tell: freeing it, if it is still ours, is what matters
            for attempt in range(2):
                try:
                    self._run("free", KEY_NAME, self.token)
                    break
                except DatabaseException as exc:
                    if attempt:
                        raise LeaseNotFreed(self._not_freed(str(exc).splitlines()[0])) from None
        finally:
            self.client.close_connection()
        if self.lost is not None:
            raise LeaseLost(
                f"the warehouse's writer lease ran out while this command worked (it could not renew it "
                f"for {self.lease_seconds:g} s), and {self.lost} took it: both may have written at once. "
                "Its work is done; run the next command as usual, and if this recurs, raise "
                "[warehouse] lease_seconds"
            )

    def _not_freed(self, why: str) -> str:
        return (
            f"the warehouse's writer lease could not be freed ({why}): the next writer waits until it runs "
            f"out, within {self.lease_seconds:g} s. This command's work is done"
        )

    def _now(self) -> datetime:
        value = self._rows("now")[0][0]
        assert isinstance(value, datetime)
        return value

    def _rows(self, name: str, *args: Any) -> list[Any]:
        return list(self.client.execute_sql(self._sql(name), *args) or [])

    def _run(self, name: str, *args: Any) -> None:
        self.client.execute_sql(self._sql(name), *args)

    def _sql(self, name: str) -> str:
        return models.render(name, self._dialect, folder=STATEMENTS)


def _at(value: object) -> str:
    return value.isoformat(timespec="seconds") if isinstance(value, datetime) else "?"
