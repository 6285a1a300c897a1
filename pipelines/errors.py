"""Exit codes (design §4) and the interrupt codes of the loading commands."""

from __future__ import annotations

import signal
import sys
from typing import Final

EXIT_OK: Final = 0
EXIT_FAILURE: Final = 1
EXIT_USAGE: Final = 2  # bad usage, configuration or credentials
EXIT_GUARD: Final = 3  # stopped by a guard
# Stopped by a signal: 128 + its number, as shells report it (130 for Ctrl-C, 143 for SIGTERM); see
# `interrupts.interrupted_exit`.
# The reader of stdout went away (`| head`): 128 + SIGPIPE, as a shell reports such a tool.
EXIT_STDOUT_CLOSED: Final = 128 + signal.SIGPIPE


class CommandError(Exception):
    """A command that could not do its work. The message names the problem and the fix; `exit_code`
    says which kind of failure it is (usage 2, runtime 1)."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class StdoutClosed(Exception):
    """Whoever read stdout stopped reading (`mailjet-elt sql ... | head`): the command ends quietly."""


def write_out(text: str) -> None:
    """Write `text` to stdout and flush it; StdoutClosed when its reader has gone."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise StdoutClosed from None
