"""Benchmark of every command on DuckDB and on PostgreSQL: the same steps against two identically seeded
sandboxes, one per engine, and the Postgres/DuckDB ratio per command. Prints figures; asserts nothing.

A PostgreSQL 16 of its own is started from the `pgserver` wheel (a dev dependency; `.[postgres]` brings
the driver), in a temporary data folder, listening on a Unix socket only; it is stopped and deleted at the
end. Each command runs as `mailjet-elt` in its own process, in a temporary working folder, alternately on
DuckDB and on Postgres (so that a busy moment of the shared machine falls on both), in this order:

    extract              the whole account (100,000 contacts by default)
    extract again        incremental: what the sandbox added since
    import-csv           a generated Mailjet export (15 % of the contacts in rows, 15,000 at most)
    load profiles        CRM profiles of 60 % of the contacts   (crm.profiles)
    load consent         their consent events                     (crm.consent_events)
    plan                 the shipped audiences
    apply                sends the plan (--force: it updates the properties of most members; the
                         sandbox's jobs take --job-seconds each)
    run                  extract, plan, apply again: nothing left to send

Per command: wall seconds, CPU seconds (the command's process; for Postgres also the server's processes,
which do the work DuckDB does inside the command), the command's peak RSS, and which file formats its
dlt loads used (dlt's load trace). Goal: Postgres within 1.5x of DuckDB per command.

    .venv/bin/python bench/warehouses.py                     # 100,000 contacts
    .venv/bin/python bench/warehouses.py --contacts 2000     # a smoke check, well under a minute
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import duckdb
import psycopg2
from common import AUTH, start_sandbox
from dlt.pipeline.trace import TRACE_FILE_NAME, load_trace
from import_csv import write_export

REPO = Path(__file__).resolve().parents[1]
AUDIENCES = REPO / "audiences.sql"
CLI = Path(sys.executable).with_name("mailjet-elt")
ENGINES = ("duckdb", "postgres")
GOAL = 1.5
NOW = "2026-06-15T12:00:00Z"  # both sandboxes start their clocks here: the same seed, the same data
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Measure:
    """One command on one engine."""

    wall: float
    cpu: float  # the command's process
    server_cpu: float  # the PostgreSQL server's processes meanwhile (0 for DuckDB)
    rss: float  # MiB, the command's process
    formats: Counter[str] = field(default_factory=Counter)

    @property
    def total_cpu(self) -> float:
        return self.cpu + self.server_cpu


@dataclass
class Postgres:
    """The benchmark's own PostgreSQL: its server (pgserver's handle), socket folder, port, database."""

    server: object
    socket_dir: str
    port: int
    pid: int
    database: str = "bench"

    @property
    def url(self) -> str:
        return f"postgresql://postgres:postgres@{quote(self.socket_dir, safe='')}:{self.port}/{self.database}"

    def settings(self) -> str:
        connection = psycopg2.connect(self.url)
        try:
            with connection.cursor() as cursor:
                shown = []
                for name in ("server_version", "shared_buffers", "work_mem", "fsync", "synchronous_commit"):
                    cursor.execute(f"show {name}")
                    row = cursor.fetchone()
                    shown.append(f"{name} {row[0] if row else '?'}")
                return ", ".join(shown)
        finally:
            connection.close()

    def cpu_seconds(self) -> float:
        """CPU the server has used so far: its live processes', and the exited backends' (their times
        are added to the postmaster's children times once it reaps them)."""
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid, ppid = int(stat.parent.name), int(fields[1])
            if pid == self.pid:
                total += sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
            elif ppid == self.pid:
                total += int(fields[11]) + int(fields[12])
        return total / TICKS


def start_postgres(folder: Path) -> Postgres:
    """A PostgreSQL 16 in `folder` (Unix socket only), with an empty database `bench`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns, at import, when XDG_RUNTIME_DIR is unset
        import pgserver

    folder.mkdir()
    server = pgserver.get_server(folder / "data", cleanup_mode="delete")  # type: ignore[attr-defined]
    info = server.get_postmaster_info()
    pid = server.get_pid()
    assert info.socket_dir is not None and info.port is not None and pid is not None
    pg = Postgres(server, str(info.socket_dir), int(info.port), int(pid))
    connection = psycopg2.connect(pg.url.rsplit("/", 1)[0] + "/postgres")
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f"create database {pg.database}")
    finally:
        connection.close()
    return pg


def engine_env(base: str, work: Path, pg: Postgres | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAILJET__", "SYNC__", "DESTINATION__"))}
    env.update(
        MAILJET__BASE_URL=base,
        MAILJET__API_KEY=AUTH[0],
        MAILJET__API_SECRET=AUTH[1],
        DLT_DATA_DIR=str(work / "dlt"),  # dlt's own working state, kept apart from the user's
    )
    if pg is not None:
        env["DESTINATION__POSTGRES__CREDENTIALS"] = pg.url
    return env


def load_formats(work: Path, since: float) -> Counter[str]:
    """The file formats of the jobs that the loads of a command made (from the traces it wrote)."""
    formats: Counter[str] = Counter()
    for trace_file in work.rglob(TRACE_FILE_NAME):
        if trace_file.stat().st_mtime < since:
            continue
        trace = load_trace(str(trace_file.parent))
        for step in trace.steps if trace is not None else []:
            info = step.step_info
            if step.step != "load" or info is None or step.started_at.timestamp() < since:
                continue
            for package in getattr(info, "load_packages", []):
                for jobs in package.jobs.values():
                    for job in jobs:
                        if job.job_file_info.file_format != "sql":
                            formats[job.job_file_info.file_format] += 1
    return formats


def measure(work: Path, env: dict[str, str], pg: Postgres | None, args: list[str]) -> Measure:
    """One `mailjet-elt` command in its own process, in `work`; SystemExit with its output on a failure.
    wait4 gives the process's own CPU time and peak RSS, apart from the sandbox's and the server's."""
    where = ["--destination", "postgres"] if pg is not None else ["--db", str(work / "bench.duckdb")]
    cmd = [str(CLI), args[0], *where, *args[1:]]
    since = time.time()
    server_before = pg.cpu_seconds() if pg is not None else 0.0
    began = time.perf_counter()
    with (work / "out.txt").open("w") as out, (work / "err.txt").open("w") as err:
        proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - began
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        shown = (work / "err.txt").read_text()[-3000:] + (work / "out.txt").read_text()[-1000:]
        raise SystemExit(f"mailjet-elt {' '.join(cmd[1:])} failed ({proc.returncode}):\n{shown}")
    server = 0.0
    if pg is not None:
        time.sleep(0.2)  # the postmaster reaps the command's backends (their CPU joins its children's)
        server = pg.cpu_seconds() - server_before
    cpu = usage.ru_utime + usage.ru_stime
    return Measure(wall, cpu, server, usage.ru_maxrss / 1024, load_formats(work, since))


def write_crm(db: Path, work: Path) -> tuple[Path, Path]:
    """CRM files for 60 % of the sandbox's contacts (read from the DuckDB run's extract): profiles, and
    their consent events (a newsletter grant each, a service grant for one in three, a later newsletter
    withdrawal for one in a hundred)."""
    profiles, consent = work / "profiles.csv", work / "consent_events.csv"
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute(
            "create temporary table people as select email, row_number() over (order by id) as i "
            "from mailjet_api.contacts where email is not null"
        )
        con.execute(
            "copy (select email, 'Name' || (i % 997) as firstname, "
            "['FR', 'DE', 'IT', 'ES', 'NL'][i % 5 + 1] as country from people where i % 5 < 3 order by i) "
            f"to '{profiles}' (header)"
        )
        con.execute(
            "copy (select email, 'email_newsletter' as permission, true as granted, "
            "timestamptz '2025-01-01 00:00:00+00' + to_minutes(cast(i as bigint)) as at, 'crm' as source "
            "from people where i % 5 < 3 "
            "union all select email, 'email_service', true, timestamptz '2025-02-01 00:00:00+00', 'crm' "
            "from people where i % 5 < 3 and i % 3 = 0 "
            "union all select email, 'email_newsletter', false, timestamptz '2026-01-01 00:00:00+00', 'crm' "
            f"from people where i % 5 < 3 and i % 100 = 7) to '{consent}' (header)"
        )
    return profiles, consent


STEPS: list[tuple[str, list[str]]] = [
    ("extract", ["extract"]),
    ("extract again", ["extract"]),
    ("import-csv", ["import-csv", "EXPORT", "--list", "Newsletter"]),
    ("load profiles", ["load", "PROFILES", "--table", "profiles"]),
    ("load consent", ["load", "CONSENT", "--table", "consent_events"]),
    ("plan", ["plan", "--audiences", str(AUDIENCES)]),
    ("apply", ["apply", "--yes", "--force", "--audiences", str(AUDIENCES)]),
    ("run", ["run", "--yes", "--audiences", str(AUDIENCES)]),
]


def show(results: dict[str, dict[str, Measure]]) -> None:
    print(
        f"\n{'command':<15}{'DuckDB s':>9}{'cpu':>7}{'MiB':>6}  {'Postgres s':>10}{'cpu':>7}{'+srv':>7}"
        f"{'MiB':>6}  {'wall x':>7}{'cpu x':>7}  loads (DuckDB | Postgres)"
    )
    for name, by_engine in results.items():
        d, p = by_engine["duckdb"], by_engine["postgres"]
        wall_ratio = p.wall / d.wall
        cpu_ratio = p.total_cpu / d.total_cpu
        flag = "" if wall_ratio <= GOAL else "  over the goal"
        loads = " | ".join(
            ", ".join(f"{fmt} {n}" for fmt, n in sorted(m.formats.items())) or "-" for m in (d, p)
        )
        print(
            f"{name:<15}{d.wall:>9.2f}{d.cpu:>7.2f}{d.rss:>6.0f}  {p.wall:>10.2f}{p.cpu:>7.2f}"
            f"{p.server_cpu:>7.2f}{p.rss:>6.0f}  {wall_ratio:>7.2f}{cpu_ratio:>7.2f}  {loads}{flag}"
        )
    total = {e: sum(r[e].wall for r in results.values()) for e in ENGINES}
    print(
        f"{'all':<15}{total['duckdb']:>9.2f}{'':>13}  {total['postgres']:>10.2f}{'':>20}  "
        f"{total['postgres'] / total['duckdb']:>7.2f}"
    )
    print(
        f"wall x = Postgres wall / DuckDB wall (goal <= {GOAL:g}); cpu x = (command + server CPU on "
        "Postgres) / command CPU on DuckDB; MiB = the command's peak RSS"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--job-seconds", type=float, default=0.2, help="how long each sandbox job runs")
    args = parser.parse_args()
    export_rows = max(100, min(15_000, args.contacts * 15 // 100))
    with tempfile.TemporaryDirectory(prefix="bench-warehouses-") as tmp:
        root = Path(tmp)
        pg = start_postgres(root / "pg")
        sandboxes = [start_sandbox(args.contacts, job_seconds=args.job_seconds, now=NOW) for _ in ENGINES]
        try:
            print(
                f"warehouses: {args.contacts:,} contacts per sandbox (seed 42, clock at {NOW}), jobs of "
                f"{args.job_seconds:g} s; export of {export_rows:,} rows; {os.cpu_count()} cores, "
                f"Python {platform.python_version()}, DuckDB {duckdb.__version__}; PostgreSQL: "
                f"{pg.settings()}, over a Unix socket"
            )
            works = {e: root / e for e in ENGINES}
            envs = {}
            for (_, base, _), engine in zip(sandboxes, ENGINES, strict=True):
                works[engine].mkdir()
                envs[engine] = engine_env(base, works[engine], pg if engine == "postgres" else None)
            files = {"EXPORT": root / "mailjet_export.csv"}
            write_export(files["EXPORT"], export_rows)
            results: dict[str, dict[str, Measure]] = {}
            for name, step in STEPS:
                if name == "load profiles":
                    files["PROFILES"], files["CONSENT"] = write_crm(works["duckdb"] / "bench.duckdb", root)
                argv = [str(files.get(a, a)) for a in step]
                results[name] = {}
                for engine in ENGINES:
                    results[name][engine] = measure(
                        works[engine], envs[engine], pg if engine == "postgres" else None, argv
                    )
                d, p = results[name]["duckdb"], results[name]["postgres"]
                print(f"  {name}: DuckDB {d.wall:.2f} s, Postgres {p.wall:.2f} s", flush=True)
            show(results)
        finally:
            for proc, _, _ in sandboxes:
                proc.terminate()
                proc.wait(timeout=30)
            pg.server.cleanup()  # type: ignore[attr-defined]
            shutil.rmtree(root / "pg", ignore_errors=True)


if __name__ == "__main__":
    main()
