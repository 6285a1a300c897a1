"""Peak memory per phase of a command, for the benchmarks: with MAILJET_ELT_PHASE_RSS=FILE in the
environment, `mark(phase)` appends `phase peak_MiB seconds` to FILE (the process's peak resident set since
the previous mark, VmHWM, and the phase's seconds) and resets the peak (Linux's /proc/self/clear_refs);
without it, it does nothing. A reset peak is lost to wait4's ru_maxrss: the phases' peaks are the peak."""

from __future__ import annotations

import os
import time
from contextlib import suppress
from pathlib import Path

ENV = "MAILJET_ELT_PHASE_RSS"
_since = [time.monotonic()]  # when the phase being measured began (start-up: when this was imported)


def mark(phase: str) -> None:
    """Record the peak RSS of the phase that ends now, and start measuring the next one."""
    target = os.environ.get(ENV)
    if not target:
        return
    with suppress(OSError, ValueError, StopIteration):
        status = Path("/proc/self/status").read_text()
        peak = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
        now = time.monotonic()
        with open(target, "a", encoding="utf-8") as out:
            out.write(f"{phase} {peak / 1024:.1f} {now - _since[0]:.2f}\n")
        _since[0] = now
        Path("/proc/self/clear_refs").write_text("5")
