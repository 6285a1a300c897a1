"""The spool's group commit: the file an fsync is under way on stays open, whatever a seal does meanwhile."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from sources.mailjet_webhooks import Spool


def test_a_seal_waits_for_the_fsync_under_way(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spool = Spool(tmp_path / "spool")
    spool.open()
    real = os.fsync
    syncing, go_on = threading.Event(), threading.Event()
    seen: list[int] = []

    def slow_fsync(fd: int) -> None:
        if threading.current_thread().name == "appender":
            syncing.set()
            go_on.wait(10)
            seen.append(os.fstat(fd).st_size)  # the descriptor is still the spool file's, open
        real(fd)

    monkeypatch.setattr(os, "fsync", slow_fsync)
    line = b'{"kind":"events","at":"now","events":[{"event":"open"}]}\n'
    appender = threading.Thread(target=spool.append_line, args=(line, 1), name="appender")
    appender.start()
    assert syncing.wait(10)
    sealing = threading.Thread(target=spool.seal)
    sealing.start()
    sealing.join(0.3)
    assert sealing.is_alive(), "the seal closed the file while its fsync was under way"
    go_on.set()
    appender.join(10)
    sealing.join(10)
    spool.close()
    assert seen == [len(line)]
    [sealed] = spool.sealed()
    assert sealed.read_bytes() == line
