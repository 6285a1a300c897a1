"""SIGINT and SIGTERM: stop within seconds, never a traceback, and leave what is loaded resumable.

The CLI installs one handler for its whole life, before anything heavy is imported. A first signal
raises an `Interrupted` in the main thread at once, unless the command is writing to the database
(`deferred()`): then it only raises dlt's flag (`dlt.common.runtime.signals`), which dlt's normalize and
load steps and our page readers watch, and the command stops at the next safe point. A second signal
ends the process on the spot: what is half-written is what a crash leaves, and the next run resumes it.
This module imports nothing of dlt's up front, so that the handler is in place from the first moment."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import FrameType
from typing import Any

from pipelines.errors import EXIT_FAILURE
from pipelines.logs import console, last_words

HANDLED = (signal.SIGINT, signal.SIGTERM)
NAMES: dict[int, str] = {signal.SIGINT: "Ctrl-C (SIGINT)", signal.SIGTERM: "SIGTERM"}
DLT_SIGNALS = "dlt.common.runtime.signals"


class Interrupted(KeyboardInterrupt):
    """The user (Ctrl-C) or a scheduler (SIGTERM) stopped the command."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by signal {signum}")
        self.signum = signum


def _say(text: str) -> None:
    """Write to stderr from a signal handler (no buffered I/O or locks there)."""
    with suppress(OSError):
        os.write(2, last_words(text))


def _in_finalizer(frame: FrameType | None) -> bool:
    """Whether `frame` runs inside an object's `__del__` (garbage collection can run one anywhere)."""
    while frame is not None:
        if frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


class InterruptHandler:
    """The process's SIGINT/SIGTERM handler for one command."""

    def __init__(self, command: str) -> None:
        self.command = command
        self.received = 0
        self._deferred = 0  # > 0 while the command writes: signals wait for a safe point

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.received:
            _say(f"mailjet-elt {self.command}: stopped at once; rerun `{self.command}` to resume")
            os._exit(128 + signum)
        self.received = signum
        dlt_signals: Any = sys.modules.get(DLT_SIGNALS)  # dlt may not even be imported yet
        if dlt_signals is not None:
            dlt_signals.set_received_signal(signum)
            dlt_signals.wake_all()
        _say(
            f"mailjet-elt {self.command}: {NAMES.get(signum, str(signum))} received, stopping "
            "(send it again to stop at once)"
        )
        if not self._deferred and not _in_finalizer(frame):
            raise Interrupted(signum)
        # Deferred, or the signal came while a finalizer (`__del__`) ran: Python would swallow (and print)
        # an exception raised there, losing the stop; the command stops at its next check instead.

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """While inside, a signal waits for the next safe point: a `check()`, or a dlt step or page
        reader that sees dlt's flag. Work that finishes regardless has finished: no point raising then."""
        self.check()
        self._deferred += 1
        try:
            yield
        finally:
            self._deferred -= 1

    @contextmanager
    def immediate(self) -> Iterator[None]:
        """Inside a deferred block, a stretch that writes nothing (fetching): signals interrupt at once."""
        self.check()
        saved, self._deferred = self._deferred, 0
        try:
            yield
        except Interrupted:
            raise
        except BaseException as exc:
            # Libraries that watch for signals themselves (DuckDB: "Query interrupted") turn ours into
            # their own error: it is still the user's stop, not a failure.
            if self.received:
                raise Interrupted(self.received) from exc
            raise
        finally:
            self._deferred = saved

    def rearm(self) -> None:
        """Forget a signal that was handled (an interactive prompt cancels one statement and goes on):
        the next one stops the statement again, rather than the process at once."""
        self.received = 0
        dlt_signals: Any = sys.modules.get(DLT_SIGNALS)
        if dlt_signals is not None:
            dlt_signals.set_received_signal(0)

    def check(self) -> None:
        """Raise Interrupted if a signal came."""
        if self.received:
            raise Interrupted(self.received)


@contextmanager
def handle_interrupts(command: str, restore: bool = True) -> Iterator[InterruptHandler]:
    """Install the handler for `command` (main thread only; elsewhere it is a plain, uninstalled one).
    The CLI passes `restore=False`: its handler stays until the process has exited, so that a second
    signal during the shutdown still ends it at once with the right code."""
    handler = InterruptHandler(command)
    if threading.current_thread() is not threading.main_thread():
        yield handler
        return
    previous = {sig: signal.getsignal(sig) for sig in HANDLED}
    for sig in HANDLED:
        signal.signal(sig, handler)
    try:
        yield handler
    finally:
        for sig, old in previous.items():
            if restore:
                signal.signal(sig, old)
        dlt_signals: Any = sys.modules.get(DLT_SIGNALS)
        if dlt_signals is not None:
            dlt_signals.set_received_signal(0)


def signal_cause(exc: BaseException) -> int | None:
    """The signal behind an exception (a dlt step failure wrapping it included), if any."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, Interrupted):
            return seen.signum
        code = getattr(seen, "signal_code", None)  # dlt's SignalReceivedException
        if isinstance(seen, KeyboardInterrupt):
            return code if isinstance(code, int) and code > 0 else int(signal.SIGINT)
        seen = seen.__cause__ or seen.__context__
    return None


def reraise_if_interrupted(exc: BaseException) -> None:
    """Raise Interrupted when `exc` (say, a failed dlt step) was caused by a signal."""
    signum = signal_cause(exc)
    if signum is not None:
        raise Interrupted(signum) from None


def interrupted_exit(command: str, signum: int | None) -> int:
    """The exit code for a command stopped by `signum`, after telling the user how to resume."""
    console().error(f"mailjet-elt {command}: interrupted; rerun `{command}` to resume")
    return signal_exit_code(signum)


def signal_exit_code(signum: int | None) -> int:
    """A command stopped by `signum` exits 128 + its number, as shells report it (1 when it is unknown)."""
    return 128 + signum if signum else EXIT_FAILURE
