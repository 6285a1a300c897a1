"""One writer per database: an advisory lock file beside the pipeline's working state.

The lock is `fcntl.flock` on a file that also records who holds it (command, pid, since). The kernel
releases it when the holder exits, however it exits (a SIGKILL included), so a stale lock never blocks
a later run; the recorded holder is only read to name it in the message of the process that waits.
`fcntl` directly rather than a lock library: one call does it, and the holder's record sits in the same
file."""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

POLL_SECONDS = 0.2


class LockTimeout(Exception):
    """Another process kept the database for longer than we were willing to wait."""


class LockUnavailable(Exception):
    """The lock file cannot be created (the folder is read-only, or not a folder)."""


def describe_holder(path: Path) -> str:
    """Who holds the lock at `path`, as recorded in it: "`mailjet-elt extract` (pid 12, since …)"."""
    try:
        holder = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        holder = {}
    if not isinstance(holder, dict) or "pid" not in holder:
        return "another process"
    return (
        f"`mailjet-elt {holder.get('command', '?')}` (pid {holder['pid']}, since {holder.get('since', '?')})"
    )


def wait_until_taken(
    take: Callable[[], bool],
    holder: Callable[[], str],
    wait_seconds: float,
    on_wait: Callable[[str], None] | None,
) -> None:
    """Try `take` until it succeeds, polling, for at most `wait_seconds`; `on_wait` is told once, with
    `holder()`, when it has to wait. Raises LockTimeout naming the holder. The wait of every writer lock:
    the file's, the warehouse's advisory lock and its leased row."""
    deadline = time.monotonic() + wait_seconds
    told = False
    while not take():
        if time.monotonic() >= deadline:
            raise LockTimeout(
                f"the database is in use by {holder()}; waited {wait_seconds:g} s. Let it finish and run "
                "this command again, or wait longer with --lock-wait SECONDS"
            )
        if not told and on_wait is not None:
            on_wait(holder())
            told = True
        time.sleep(POLL_SECONDS)


class WriterLock:
    """Held for the whole of a loading command. `wait_seconds` bounds how long a second process waits;
    `on_wait` is told once, with the holder's description, when it has to wait."""

    def __init__(
        self,
        path: Path,
        command: str,
        wait_seconds: float,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        self.path = path
        self.command = command
        self.wait_seconds = wait_seconds
        self.on_wait = on_wait
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, waiting up to `wait_seconds`; raises LockTimeout or LockUnavailable."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise LockUnavailable(f"cannot create the lock file {self.path}: {exc.strerror}") from None
        try:
            self._wait(fd)
            self._fd = fd
            record = {
                "command": self.command,
                "pid": os.getpid(),
                "since": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(record).encode(), 0)
        except BaseException:  # a timeout, or a Ctrl-C while waiting
            if self._fd is None:
                os.close(fd)
            else:
                self.release()
            raise

    def _wait(self, fd: int) -> None:
        def take() -> bool:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        wait_until_taken(take, lambda: describe_holder(self.path), self.wait_seconds, self.on_wait)

    def release(self) -> None:
        """Let the next writer in (exiting the process does the same)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def __enter__(self) -> WriterLock:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
