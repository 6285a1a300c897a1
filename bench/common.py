"""Helpers shared by the benchmarks: a sandbox in its own process, and peak memory of a process."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

AUTH = ("sandbox-api-key", "sandbox-api-secret")


def peak_rss_mib(pid: int) -> float:
    """VmHWM (peak resident set) of a running process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_sandbox(
    contacts: int,
    memberships: int | None = None,
    messages: int | None = None,
    faults: str = "",
    job_seconds: float | None = None,
) -> tuple[subprocess.Popen[str], str, float]:
    """`mailjet-elt sandbox` on a free loopback port: (process, base URL, seconds until it served)."""
    cmd = [sys.executable, "-m", "pipelines.cli", "sandbox", "--port", "0", "--contacts", str(contacts)]
    if memberships is not None:
        cmd += ["--memberships", str(memberships)]
    if messages is not None:
        cmd += ["--messages", str(messages)]
    if faults:
        cmd += ["--faults", faults]
    if job_seconds is not None:
        cmd += ["--job-seconds", str(job_seconds)]
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        found = re.search(r"listening on (http://\S+)", line)
        if found:
            return proc, found.group(1), time.perf_counter() - began
    raise SystemExit("sandbox did not start")
