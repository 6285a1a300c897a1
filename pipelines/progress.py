"""Progress of long work on stderr: rows fetched per resource against the rows Mailjet counted."""

from __future__ import annotations

import threading
import time
from typing import TextIO

from pipelines.logs import console


class ExtractProgress:
    """Collects (resource, rows fetched, rows expected) reports from the extract's threads and prints
    one line every `every` seconds while work goes on."""

    def __init__(self, stream: TextIO | None = None, every: float = 5.0) -> None:
        self.stream = stream
        self.every = every
        self.fetched: dict[str, int] = {}
        self.expected: dict[str, int] = {}
        self.started = time.monotonic()
        self._last = self.started
        self._lock = threading.Lock()

    def __call__(self, resource: str, fetched: int, expected: int) -> None:
        with self._lock:
            self.fetched[resource] = self.fetched.get(resource, 0) + fetched
            self.expected[resource] = self.expected.get(resource, 0) + expected
            now = time.monotonic()
            if now - self._last < self.every:
                return
            self._last = now
            line = self.line()
        if self.stream is None:
            console().info(line)
        else:
            print(line, file=self.stream, flush=True)

    def line(self) -> str:
        """Where the extract stands now."""
        done = sum(self.fetched.values())
        rate = done / max(time.monotonic() - self.started, 1e-9)
        active = [
            f"{name} {self.fetched[name]:,}/{self.expected[name]:,}"
            for name in self.expected
            if self.fetched.get(name, 0) < self.expected[name]
        ]
        return f"extract: {done:,} rows fetched ({rate:,.0f}/s)" + (
            f"; in progress: {', '.join(active)}" if active else ""
        )
