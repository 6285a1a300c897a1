"""Start-up of the small commands, as a user starts them: `.venv/bin/mailjet-elt` in a process of its own,
each several times; the median wall time of each against its goal, its median CPU time (user + system:
what the machine's other work does not inflate) and its peak RSS.

    .venv/bin/python bench/cli.py [--repeat 7]

`check` asks a sandbox started on a free loopback port (in another process, not measured); `sql` reads a
small DuckDB file made in a temporary folder, once named with --db and once by the `db` setting of the
folder's .dlt/config.toml (which reads dlt's configuration). Each command runs once unmeasured first (the
file system's cache). Figures, not a test: it asserts nothing."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import AUTH, Figures, start_sandbox

BIN = Path(sys.executable).parent / "mailjet-elt"
# Made by a process of its own: a child's peak RSS counts its parent's resident memory at the fork, so this
# process stays small (it imports no DuckDB).
MAKE_DB = "import duckdb, sys; duckdb.connect(sys.argv[1]).execute('create table t as select 1 as n')"
HELP_GOAL, COMMAND_GOAL = 0.3, 1.0


def measured(args: list[str], env: dict[str, str], cwd: Path, expected: int) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS MiB) of one `mailjet-elt ARGS`; SystemExit when it exits
    otherwise."""
    began = time.perf_counter()
    proc = subprocess.Popen(
        [str(BIN), *args], env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - began
    code = os.waitstatus_to_exitcode(status)
    if code != expected:
        raise SystemExit(
            f"mailjet-elt {' '.join(args)} exited {code}, not {expected}:\n{err.decode()[-2000:]}"
        )
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    options = parser.parse_args()
    figures = Figures()
    folder = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    account = folder / "account"
    (account / ".dlt").mkdir(parents=True)
    (account / ".dlt" / "config.toml").write_text('[mailjet_elt]\ndb = "account.duckdb"\n', encoding="utf-8")
    for db in (folder / "small.duckdb", account / "account.duckdb"):
        subprocess.run([sys.executable, "-c", MAKE_DB, str(db)], check=True)
    sandbox, base, _ = start_sandbox(100)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MAILJET__", "MAILJET_ELT__"))}
    env = clean | {"MAILJET__BASE_URL": base, "MAILJET__API_KEY": AUTH[0], "MAILJET__API_SECRET": AUTH[1]}
    cases = [
        ("--version", ["--version"], folder, 0, HELP_GOAL),
        ("--help", ["--help"], folder, 0, HELP_GOAL),
        ("(bare usage)", [], folder, 2, COMMAND_GOAL),
        ('sql --db FILE "select 1"', ["--db", "small.duckdb", "sql", "select 1"], folder, 0, COMMAND_GOAL),
        ('sql "select 1" (db setting)', ["sql", "select 1"], account, 0, COMMAND_GOAL),
        ("check", ["check"], folder, 0, COMMAND_GOAL),
    ]
    print(f"mailjet-elt start-up: median of {options.repeat} runs, {os.cpu_count()} cores")
    print(f"  {'command':<30} {'median':>8} {'goal':>6} {'CPU':>8} {'peak RSS':>10}")
    highest = 0.0
    try:
        for name, args, cwd, expected, goal in cases:
            measured(args, env, cwd, expected)
            runs = [measured(args, env, cwd, expected) for _ in range(options.repeat)]
            median = statistics.median(seconds for seconds, _, _ in runs)
            cpu = statistics.median(spent for _, spent, _ in runs)
            rss = max(peak for _, _, peak in runs)
            highest = max(highest, rss)
            figures.record(f"mailjet-elt {name}: median wall time", median, "s", goal)
            verdict = "ok" if median < goal else "OVER"
            print(
                f"  {name:<30} {median:6.2f} s {goal:4.1f} s {cpu:6.2f} s {rss:6.0f} MiB  {verdict}",
                flush=True,
            )
        figures.record("mailjet-elt start-up: highest peak RSS", highest, "MiB")
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)


if __name__ == "__main__":
    main()
