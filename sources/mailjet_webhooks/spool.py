"""The receiver's spool: deliveries appended and fsynced before they are acknowledged, sealed into
numbered files, read back for loading."""

from __future__ import annotations

import hashlib
import os
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from sources.mailjet_webhooks.events import event_key
from sources.mailjet_webhooks.exceptions import SpoolBusy
from sources.mailjet_webhooks.settings import BODY_KEPT

CURRENT = "current.jsonl"
NUMBERED = re.compile(r"(?:sealed|unloadable)-(\d+)\.jsonl")


@dataclass
class Spool:
    """Received deliveries on disk: appended to `current.jsonl` and fsynced (in groups: one fsync covers
    every write made before it) before they are acknowledged; sealed into numbered files for loading."""

    folder: Path
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _sync_lock: threading.Lock = field(default_factory=threading.Lock)
    _file: Any = None
    _written: int = 0
    _synced: int = 0
    pending_events: int = 0  # in the current file
    _sealed: dict[str, int] = field(default_factory=dict)  # events per file this process sealed, not loaded
    # A failed fsync: what was written may not be on disk, and Linux reports such an error only once, so
    # no later fsync can vouch for it. Nothing is acknowledged any more; a restart loads what is there.
    failed: OSError | None = None

    def open(self) -> None:
        """Create the folder and take it for this receiver (a second one on it stops, naming the first);
        a `current.jsonl` left by a stopped receiver is sealed for loading first."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self._claim()
        if (self.folder / CURRENT).exists():
            self.seal()
        self._file = self._start()

    def _claim(self) -> None:
        import fcntl

        handle = (self.folder / "receiver.lock").open("a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise SpoolBusy(
                f"another receiver ({holder}) is using the spool {self.folder}: one receiver per database",
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        self._claimed = handle  # held (and locked) for the receiver's life

    def _start(self) -> Any:
        handle = (self.folder / CURRENT).open("ab")
        fsync_dir(self.folder)  # the new file's entry is on disk before anything is acknowledged in it
        return handle

    def close(self) -> None:
        with self._sync_lock, self._lock:
            if self._file is not None:
                self._file.flush()
                os.fsync(self._file.fileno())
                self._file.close()
                self._file = None
        claimed = getattr(self, "_claimed", None)
        if claimed is not None:
            claimed.close()

    def append(self, record: dict[str, Any], events: int) -> None:
        """Write one record and return once it is on disk; raises OSError when that cannot be vouched for."""
        self.append_line(orjson.dumps(record) + b"\n", events)

    def append_line(self, line: bytes, events: int) -> None:
        """Write one serialized record (a line of JSON) and return once it is on disk, as `append`."""
        with self._lock:
            self._check()
            if self._file is None:  # a seal could not start the next file: try again
                self._file = self._start()
            self._file.write(line)
            self._written += 1
            mine = self._written
            self.pending_events += events
        with self._sync_lock:
            self._check()
            if self._synced >= mine:
                return  # another request's fsync covered this write
            with self._lock:
                self._file.flush()
                upto = self._written
                fd = self._file.fileno()  # open till the fsync ends: a seal or close waits for _sync_lock
            try:
                os.fsync(fd)
            except OSError as exc:
                self.failed = exc
                raise
            self._synced = upto

    def _check(self) -> None:
        if self.failed is not None:
            raise OSError(
                f"the spool could not be synced to disk earlier ({self.failed}); restart the receiver"
            )

    def seal(self, min_events: int = 0) -> Path | None:
        """Close the current file under the next number; a new current file is started. None when it
        held nothing (or fewer than `min_events` events: another request sealed it first)."""
        with self._sync_lock, self._lock:  # no fsync of the current file is under way meanwhile
            current = self.folder / CURRENT
            serving = self._file is not None
            if serving:
                if self._file.tell() == 0 or self.pending_events < min_events:
                    return None
                try:
                    self._file.flush()
                    os.fsync(self._file.fileno())
                except OSError as exc:
                    self.failed = exc
                    raise
                self._synced = self._written  # this fsync covered every write so far
                self._file.close()
                self._file = None
            elif not current.exists() or current.stat().st_size == 0:
                return None
            try:
                # Numbers never reused while a file of it is kept (set aside as unloadable, too).
                taken = [int(m[1]) for p in self.folder.glob("*.jsonl") if (m := NUMBERED.fullmatch(p.name))]
                number = max([*taken, 0]) + 1
                target = self.folder / f"sealed-{number:012d}.jsonl"
                os.replace(current, target)
                self._sealed[target.name] = self.pending_events
                self.pending_events = 0
                fsync_dir(self.folder)
            finally:
                if serving:  # whatever happened, appends go on (into the old file if it was not moved;
                    self._file = self._start()  # if this fails, the next append starts it)
            return target

    def gone(self, paths: list[Path]) -> None:
        """These sealed files are loaded or set aside: their events no longer wait."""
        with self._lock:
            for path in paths:
                self._sealed.pop(path.name, None)

    def waiting(self) -> int:
        """Events received by this process and not loaded yet."""
        with self._lock:
            return self.pending_events + sum(self._sealed.values())

    def sealed(self) -> list[Path]:
        """The sealed files, oldest first."""
        return sorted(p for p in self.folder.glob("sealed-*.jsonl") if NUMBERED.fullmatch(p.name))


def events_line(at: str, events: bytearray) -> bytes:
    """The spool's record of one delivery, from its events serialized and separated by commas."""
    return b"".join((b'{"kind":"events","at":', orjson.dumps(at), b',"events":[', events, b"]}\n"))


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_spool(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(event rows, rejection rows) of a sealed file. A last line cut short (a receiver killed while
    writing it, before it answered) is passed over: Mailjet was not told it arrived."""
    events: list[dict[str, Any]] = []
    rejections: list[dict[str, Any]] = []
    lines = path.read_bytes().splitlines()
    for number, line in enumerate(lines, start=1):
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            if number < len(lines):  # not the cut-short last line: keep it, and say so
                text = line.decode("utf-8", "replace")
                rejections.append(
                    {
                        "_id": hashlib.sha256(f"{path.name}|{number}".encode()).hexdigest()[:32],
                        "_received_at": datetime.now(UTC).isoformat(),
                        "reason": "spool_line_unreadable",
                        "detail": f"{path.name} line {number}",
                        "body": text[:BODY_KEPT],
                        "remote": "",
                    }
                )
            continue
        if record.get("kind") == "events":
            for event in record["events"]:
                events.append(
                    {
                        **event,
                        "_key": event_key(event),
                        "_received_at": record["at"],
                        "_raw": orjson.dumps(event).decode(),
                    }
                )
        elif record.get("kind") == "rejection":
            rejections.append(record)
    return events, rejections
