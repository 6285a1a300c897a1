"""The signal handler itself: a signal that lands inside a finalizer is not lost."""

from __future__ import annotations

import signal
import sys

import pytest

from pipelines.interrupts import Interrupted, InterruptHandler

pytestmark = pytest.mark.unit


def test_a_signal_inside_a_finalizer_stops_the_command_at_its_next_check() -> None:
    from dlt.common.runtime import signals as dlt_signals

    handler = InterruptHandler("import-csv")

    class Pool:
        def __del__(self) -> None:  # as a connection pool's finalizer, run by garbage collection
            handler(signal.SIGINT, sys._getframe())

    swallowed: list[object] = []
    hook, sys.unraisablehook = sys.unraisablehook, swallowed.append
    try:
        Pool()  # collected at once: its finalizer runs here, and must not raise (Python would swallow it)
        sys.unraisablehook = hook
        assert swallowed == [], "the stop was raised inside the finalizer, where Python swallows it"
        assert handler.received == signal.SIGINT
        with pytest.raises(Interrupted):
            handler.check()
        outside = InterruptHandler("extract")
        with pytest.raises(Interrupted):
            outside(signal.SIGINT, sys._getframe())  # anywhere else, at once
    finally:
        sys.unraisablehook = hook
        dlt_signals.set_received_signal(0)  # the handler raised dlt's flag too: lower it for other tests
