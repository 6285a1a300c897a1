"""The sandbox's injectable clock: real time plus an offset, or frozen at a fixed instant."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from sandbox.exceptions import SandboxConfigError


def format_ts(epoch: float) -> str:
    """Mailjet's timestamp format, `YYYY-MM-DDTHH:MM:SSZ`, in UTC."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch)))


def parse_ts(value: str) -> float:
    """Unix seconds or an RFC 3339 / ISO 8601 instant (naive means UTC) to Unix seconds."""
    text = value.strip()
    if text.lstrip("-").isdigit():
        return float(int(text))
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"not a Unix timestamp or RFC 3339 date: {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


class Clock:
    """Wall-clock time shifted by an adjustable offset; optionally frozen."""

    def __init__(self, now: str | float | None = None, frozen: bool = False) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._frozen_at: float | None = None
        if now is not None:
            try:
                start = parse_ts(now) if isinstance(now, str) else float(now)
            except ValueError as exc:
                raise SandboxConfigError(f"--now: {exc}") from exc
            self._offset = start - time.time()
        if frozen:
            self._frozen_at = self.now()

    def now(self) -> float:
        """Current sandbox time in Unix seconds."""
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return time.time() + self._offset

    def now_ts(self) -> str:
        """Current sandbox time in Mailjet's format."""
        return format_ts(self.now())

    def start_of_today(self) -> float:
        """Midnight UTC of the sandbox's current day."""
        now = self.now()
        return now - (now % 86400)

    def advance(self, seconds: float) -> float:
        """Move the clock forward (or back, if negative); returns the new time."""
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += seconds
            else:
                self._offset += seconds
        return self.now()

    def set(self, epoch: float) -> float:
        """Jump to an instant, keeping frozen or running mode."""
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = epoch
            else:
                self._offset = epoch - time.time()
        return self.now()
