"""Helpers shared by the benchmarks: a sandbox in its own process, a webhook receiver in its own process, peak
memory of a process, a free loopback port, the webhook event the webhook benchmarks post, and the record of
each bench's headline figures that `bench/summary.py` reads (`Figures`)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

AUTH = ("sandbox-api-key", "sandbox-api-secret")
# When set, the JSON-lines file each bench appends its headline figures to (`make bench` sets it).
FIGURES_ENV = "MAILJET_ELT_BENCH_FIGURES"


class Figures:
    """One bench's headline figures, appended as JSON lines to the file named by `MAILJET_ELT_BENCH_FIGURES`
    (nothing is written when it is unset). Made at the start of a bench: its first line says which bench
    ran, with which arguments, and the load average then; then one line per `record`."""

    def __init__(self, bench: str | None = None) -> None:
        self.path = os.environ.get(FIGURES_ENV) or None
        self.bench = bench or Path(sys.argv[0]).name
        self.run = f"{os.getpid()}-{time.time_ns()}"
        self._write(
            {
                "event": "start",
                "args": " ".join(sys.argv[1:]),
                "load": list(os.getloadavg()),
                "cores": os.cpu_count(),
                "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
        )

    def record(
        self,
        figure: str,
        value: float,
        unit: str,
        goal: float | None = None,
        direction: str = "<=",
        goal_for: str | None = None,
    ) -> None:
        """One figure: `value` in `unit`, against `goal` (at most when `direction` is "<=", at least when
        ">="; None: no goal). `goal_for`, when this run measured another size than the one the goal is set
        for: that size (the table marks the verdict)."""
        if direction not in ("<=", ">="):
            raise ValueError(f"direction is <= or >=, not {direction!r}")
        self._write(
            {
                "event": "figure",
                "figure": figure,
                "value": float(value),
                "unit": unit,
                "goal": goal,
                "direction": direction,
                "goal_for": goal_for,
            }
        )

    def _write(self, line: dict[str, Any]) -> None:
        if self.path is None:
            return
        text = json.dumps({"bench": self.bench, "run": self.run, **line}) + "\n"
        with open(self.path, "a", encoding="utf-8") as out:  # one write per line: benches may share the file
            out.write(text)


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
    quirks: str = "",
    now: str | None = None,
) -> tuple[subprocess.Popen[str], str, float]:
    """`mailjet-elt sandbox` on a free loopback port: (process, base URL, seconds until it served)."""
    cmd = [sys.executable, "-m", "pipelines.cli", "sandbox", "--port", "0", "--contacts", str(contacts)]
    if memberships is not None:
        cmd += ["--memberships", str(memberships)]
    if messages is not None:
        cmd += ["--messages", str(messages)]
    if faults:
        cmd += ["--faults", faults]
    if quirks:
        cmd += ["--quirks", quirks]
    if job_seconds is not None:
        cmd += ["--job-seconds", str(job_seconds)]
    if now is not None:
        cmd += ["--now", now]
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        found = re.search(r"listening on (http://\S+)", line)
        if found:
            return proc, found.group(1), time.perf_counter() - began
    raise SystemExit("sandbox did not start")


def start_receiver(db: Path, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`mailjet-elt --db DB webhooks serve --port PORT` in its own process, its console (JSON lines) written
    to `log` (a file, never a pipe nobody reads); returned once it says it listens."""
    cmd = [
        sys.executable,
        "-m",
        "pipelines.cli",
        "--db",
        str(db),
        "--log-format",
        "json",
        "webhooks",
        "serve",
    ]
    with log.open("wb") as console:  # the receiver writes to its own copy of the descriptor
        proc = subprocess.Popen(
            [*cmd, "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=console
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if "listening on" in log.read_text(errors="replace"):
            return proc
        time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"the receiver did not start:\n{log.read_text(errors='replace')[-3000:]}")


def console_lines(log: Path) -> list[dict[str, Any]]:
    """The JSON lines a command wrote to `log` (`--log-format json`)."""
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]


def measured_cli(env: dict[str, str], db: Path, *args: str) -> tuple[float, float, str]:
    """(seconds, peak RSS MiB, stdout) of one `mailjet-elt --db DB ARGS` in its own process; wait4 gives
    this child's own peak RSS, apart from the sandbox's. SystemExit with its stderr when it fails."""
    run = measured_run(env, db, *args)
    return run.seconds, run.peak_mib, run.stdout


@dataclass(frozen=True)
class MeasuredRun:
    """One `mailjet-elt` process: wall seconds, CPU seconds (user + system, all its threads), peak RSS."""

    seconds: float
    cpu_seconds: float
    peak_mib: float
    stdout: str
    stderr: str


def measured_run(env: dict[str, str], db: Path, *args: str) -> MeasuredRun:
    """`measured_cli`, with the child's CPU time and its stderr (written to a file as it goes, so a
    talkative child never blocks on a full pipe)."""
    cmd = [sys.executable, "-m", "pipelines.cli", "--db", str(db), *args]
    began = time.perf_counter()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as stderr:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True)
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - began
        stderr.seek(0)
        err = stderr.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"mailjet-elt {' '.join(args)} failed ({proc.returncode}):\n{err[-3000:]}")
    return MeasuredRun(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out, err)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def event(n: int) -> dict[str, Any]:
    return {
        "event": "open",
        "time": 1_760_000_000 + n // 1000,
        "MessageID": n,
        "Message_GUID": f"guid-{n}",
        "email": f"person{n}@example.com",
        "mj_campaign_id": 7,
        "mj_contact_id": n,
        "customcampaign": "",
        "CustomID": "",
        "Payload": "",
        "ip": "127.0.0.1",
        "geo": "FR",
        "agent": "Mozilla/5.0",
    }
