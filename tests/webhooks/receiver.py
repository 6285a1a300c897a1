"""A webhook receiver serving in a thread of the test process, for the webhook tests."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import duckdb

from pipelines.webhooks import serve
from sources.mailjet_webhooks import Receiver, WebhooksConfiguration

AUTH = ("mailjet", "s3cret-hook")


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(sql).fetchall()


class Running:
    """A receiver serving in a thread of the test process."""

    def __init__(self, server: Receiver, db: Path, stop: threading.Event, thread: threading.Thread) -> None:
        self.server, self.db, self.stop, self.thread = server, db, stop, thread

    def stopped(self) -> Path:
        """Stop it (it loads what it received first); the database."""
        self.stop.set()
        self.thread.join(timeout=60)
        assert not self.thread.is_alive()
        return self.db


def start_receiver(db: Path, lock_wait: float = 60, **settings: Any) -> Running:
    """Serve on a free loopback port into `db`, loading every 0.3 s (or as `settings` say), with the AUTH
    credentials."""
    stop = threading.Event()
    ready: list[Receiver] = []
    config = WebhooksConfiguration(username=AUTH[0], password=AUTH[1], **{"flush_seconds": 0.3, **settings})
    thread = threading.Thread(
        target=serve,
        kwargs={
            "db": str(db),
            "port": 0,
            "config": config,
            "lock_wait": lock_wait,
            "ready": ready.append,
            "stop": stop,
        },
        daemon=True,
    )
    thread.start()
    deadline = time.monotonic() + 30
    while not ready and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ready, "the receiver did not start"
    return Running(ready[0], db, stop, thread)
