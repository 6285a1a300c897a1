"""One writer per warehouse across machines: the writer lock in the warehouse itself.

The file lock (lock.py) keeps apart the writers that share a project folder; two machines (or two
checkouts) writing one team warehouse share only the warehouse. On PostgreSQL the lock is a session-level
advisory lock (`pg_try_advisory_lock`) on the project's key, taken on a connection of its own held for
the whole of the command: the server frees it when that session ends, however its process ended (a
SIGKILL included), so a stale lock never blocks a later run. Other server warehouses lend no such lock:
there the writer lock is a leased row (lease_lock.py), which `[warehouse] writer_lock = "lease"` chooses
on PostgreSQL too (behind a pooler in transaction mode, where a session's lock does not hold). The waiting
and its messages are the file lock's."""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Callable
from typing import Any, Literal

from dlt.destinations.sql_client import SqlClientBase

from pipelines import models
from pipelines.warehouse.lock import wait_until_taken

STATEMENTS = models.MODELS_FOLDER / "writer_lock"
# The engines (sqlglot's dialects, as dlt's destinations state theirs) whose server holds our lock.
ADVISORY_DIALECTS = frozenset({"postgres"})
KEY_NAME = "mailjet-elt writer"  # every database's key: advisory locks are the database's own


def lock_key(name: str = KEY_NAME) -> tuple[int, int]:
    """The advisory lock's key: two non-negative 31-bit integers from the name's SHA-256, the same on every
    machine and Python (the two-integer form, which `pg_locks` shows as they are)."""
    digest = hashlib.sha256(name.encode()).digest()
    return (
        int.from_bytes(digest[:4], "big") & 0x7FFFFFFF,
        int.from_bytes(digest[4:8], "big") & 0x7FFFFFFF,
    )


def session_name(command: str) -> str:
    """How the holding session names itself: the command, its process and host (PostgreSQL keeps 63
    characters of it)."""
    return f"mailjet-elt {command} (pid {os.getpid()} on {socket.gethostname()})"[:63]


class ServerLock:
    """Held for the whole of a writing command, on a connection of its own. `wait_seconds` and `on_wait`
    as for the file lock (WriterLock)."""

    def __init__(
        self,
        client: SqlClientBase[Any],
        command: str,
        wait_seconds: float,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        self.client = client
        self.command = command
        self.wait_seconds = wait_seconds
        self.on_wait = on_wait
        self._dialect = models.dialect_of(client)
        self._held = False

    def acquire(self) -> None:
        """Take the lock, waiting up to `wait_seconds`; raises LockTimeout. Connection failures are
        dlt's (DestinationConnectionError), as for any command on the warehouse."""
        self.client.open_connection()
        try:
            self._wait()
            self._run("name_holder", session_name(self.command))
            self._held = True
        except BaseException:  # a timeout, or a Ctrl-C while waiting
            self.client.close_connection()
            raise

    def _wait(self) -> None:
        wait_until_taken(
            lambda: bool(self._run("try_lock", *lock_key())), self.holder, self.wait_seconds, self.on_wait
        )

    def holder(self) -> str:
        """Who holds the lock, as its session named itself: "`mailjet-elt extract` (pid 12 on host-b,
        since …)"; "another writer" when the server does not tell."""
        rows = self.client.execute_sql(models.render("holder", self._dialect, folder=STATEMENTS), *lock_key())
        if not rows or not rows[0][0] or not str(rows[0][0]).startswith("mailjet-elt "):
            return "another writer (a session of this database)"
        name, since = str(rows[0][0]), rows[0][1]
        command, _, where = name.partition(" (")
        at = f", since {since.isoformat(timespec='seconds')}" if since is not None else ""
        return f"`{command}` ({where.rstrip(')')}{at})"

    def _run(self, name: str, *args: Any) -> Any:
        rows = self.client.execute_sql(models.render(name, self._dialect, folder=STATEMENTS), *args)
        return rows[0][0] if rows else None

    def release(self) -> None:
        """Let the next writer in: the session ends, and the server frees its lock with it."""
        if self._held:
            self._held = False
            self.client.close_connection()


WriterLockKind = Literal["advisory", "lease"]
WRITER_LOCK_KINDS: tuple[WriterLockKind, ...] = ("advisory", "lease")


def writer_lock_kind(dialect: str, configured: str | None) -> WriterLockKind:
    """The warehouse's writer lock: `configured` (`[warehouse] writer_lock`) when set, else the engine's
    advisory lock where it has one, a leased row elsewhere. Raises ValueError for a kind that is not one,
    or an advisory lock the engine has not."""
    if configured is None:
        return "advisory" if dialect in ADVISORY_DIALECTS else "lease"
    if configured not in WRITER_LOCK_KINDS:
        kinds = ", ".join(WRITER_LOCK_KINDS)
        raise ValueError(f"[warehouse] writer_lock = {configured!r}: it is one of {kinds}")
    if configured == "advisory" and dialect not in ADVISORY_DIALECTS:
        raise ValueError(
            f"[warehouse] writer_lock = 'advisory': {dialect} has no advisory lock here; "
            "use 'lease' (the default there)"
        )
    return "advisory" if configured == "advisory" else "lease"
