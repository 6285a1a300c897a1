"""The world of the crash-safety tests: killed, interrupted and concurrent runs, after which a plain rerun
must give the database a clean run gives.

Each case starts from the same baseline database (an extract, then a CSV import whose rows are attached
to API contacts), while the sandbox has changed since (contacts deleted and added, memberships removed),
so the rerun has rows to add and rows to remove. The reference is one uninterrupted extract (or import)
from that baseline; every view of `mailjet` and every table of `mailjet_api` and `mailjet_csv` is
compared row for row with it.

Timed kills are counted from the moment the command starts its work (its writer lock taken, after
Python's start-up) and spread over the time a clean run takes from there to its end, so every one lands
in the work; a kill that finds the run already ended is tried again, earlier. The world is small (a few
pages of contacts, an export of EXPORT_ROWS rows): a run's work is then mostly dlt's own steps, which
are what a kill has to interrupt, and each moment still falls inside them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from tests.conftest import BIN, Api, run_cli

CONTACTS = 2_500  # three pages of contacts (sources/mailjet/settings.py, PAGE_SIZE_MAX)
EXPORT_ROWS = 10_000
KILL_MOMENTS = 3  # timed kills at 1/3 and 2/3 of a clean run's work, then at 95 %, and once in its load
KILL_ATTEMPTS = 4  # a timed kill that finds the run ended is made again, earlier (EARLIER of its moment,
# and of the work of the run that ended first)
EARLIER = 0.8
HANG_GUARD_SECONDS = 120


@dataclass
class World:
    """A changed sandbox, a baseline database to copy, and the databases a clean run gives."""

    api: Api
    env: dict[str, str]
    root: Path
    baseline: Path
    extracted: Path  # baseline + one clean extract
    imported: Path  # baseline + one clean import of `export`
    export: Path
    extract_seconds: float  # a clean extract's work: from its writer lock taken to its end
    import_seconds: float  # the same for a clean import of `export`
    extract_requests: int  # requests one clean extract of the baseline makes
    _both: Path | None = None

    def extracted_and_imported(self) -> Path:
        """baseline + one clean extract + one clean import of `export`, made on first use."""
        if self._both is None:
            both = copy_db(self.extracted, self.root / "extracted-and-imported")
            result = cli(both, *import_args(self), env=self.env)
            assert result.returncode == 0, result.stderr
            self._both = both
        return self._both


def copy_db(source: Path, target_dir: Path) -> Path:
    """The database file and its pipeline working folder, under the same names in `target_dir`."""
    target_dir.mkdir(parents=True)
    shutil.copy(source, target_dir / source.name)
    state = source.parent / f".{source.name}.dlt"
    if state.exists():
        shutil.copytree(state, target_dir / state.name)
    return target_dir / source.name


def cli(db: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = run_cli(["--db", str(db), *args], env, db.parent)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def spawn(db: Path, *args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MAILJET__")}
    return subprocess.Popen(
        [str(BIN), "--db", str(db), *args],
        env={**clean, **env},
        cwd=db.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until(ready: Callable[[], bool], what: str) -> None:
    """Poll `ready` until it is true (a minute at most: the guard against a hang)."""
    deadline = time.monotonic() + HANG_GUARD_SECONDS / 2
    while not ready():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)


def holds_lock(db: Path, pid: int) -> bool:
    """Whether process `pid` holds the database's writer lock (as its lock file records)."""
    lock = db.parent / f".{db.name}.dlt" / "mailjet_elt.lock"
    try:
        return bool(json.loads(lock.read_text(encoding="utf-8") or "{}").get("pid") == pid)
    except (OSError, ValueError):
        return False


def requests_made(world: World) -> int:
    return int(world.api.admin("GET", "requests").json()["total"])


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=HANG_GUARD_SECONDS)
    return process.returncode, out, err


def working_from(db: Path, process: subprocess.Popen[str]) -> float:
    """The moment (time.monotonic) `process` was seen holding the writer lock of `db`: its start-up is
    over and its work begins. Or seen ended: it had nothing to wait for."""
    wait_until(
        lambda: holds_lock(db, process.pid) or process.poll() is not None, "the command holds the lock"
    )
    return time.monotonic()


def clean_run(db: Path, *args: str, env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run `args` on `db` to its end; how long its work took (from its lock taken to its end), and how it
    ended."""
    process = spawn(db, *args, env=env)
    began = working_from(db, process)
    code, out, err = finish(process)
    ended = time.monotonic()
    assert "Traceback" not in err, err
    return ended - began, subprocess.CompletedProcess(process.args, code, out, err)


LAYERS = ("mailjet", "mailjet_api", "mailjet_csv")  # the views and both raw layers
STAMPS = ("_extracted_at", "imported_at")  # when a run loaded a row: differs from run to run


def tables(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every view of `mailjet` and every table of the raw layers, sorted, without the run stamps."""
    out: dict[str, list[tuple[object, ...]]] = {}
    with duckdb.connect(str(db), read_only=True) as con:
        names = con.sql(
            "select table_schema, table_name from information_schema.tables "
            f"where table_schema in {LAYERS} and table_name not like '\\_dlt%' escape '\\' order by all"
        ).fetchall()
        for schema, name in names:
            columns = [
                c
                for (c,) in con.sql(
                    f"select column_name from information_schema.columns where table_schema = '{schema}' "
                    f"and table_name = '{name}' and column_name not in {STAMPS} "
                    "and column_name not like '\\_dlt%' escape '\\' order by 1"
                ).fetchall()
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            out[f"{schema}.{name}"] = con.sql(f"select {select} from {schema}.{name} order by all").fetchall()
    return out


_REFERENCES: dict[tuple[Path, int, int], dict[str, list[tuple[object, ...]]]] = {}


def reference_tables(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """`tables(db)` of a reference database, read once while the file stays as it is."""
    stat = db.stat()
    key = (db, stat.st_mtime_ns, stat.st_size)
    if key not in _REFERENCES:
        _REFERENCES[key] = tables(db)
    return _REFERENCES[key]


def assert_same(db: Path, reference: Path) -> None:
    got, want = tables(db), reference_tables(reference)
    assert sorted(got) == sorted(want)
    for name in want:
        assert len(got[name]) == len(want[name]), name
        assert got[name] == want[name], name


def left_pending(db: Path) -> bool:
    """Whether a run stopped after its data was read: a journal or load package is waiting."""
    for layer in ("mailjet_api", "mailjet_csv"):
        working = db.parent / f".{db.name}.dlt" / layer
        journal = working / "interrupted_run.json"
        # A journal without a package was written before the data was read: nothing to resume.
        try:
            if json.loads(journal.read_text(encoding="utf-8")).get("load_id"):
                return True
        except (FileNotFoundError, json.JSONDecodeError):  # none, or being replaced as we look
            pass
        if any(any((working / sub).glob("*/*")) for sub in ("normalize/extracted", "load/normalized")):
            return True
    return False


def kill_at(world: World, name: str, seconds: float, *args: str) -> tuple[Path, bool]:
    """Start `args` on a copy of the baseline, SIGKILL it `seconds` into its work (after its writer lock
    was taken), again earlier should it have ended by then; the copy and whether the run was stopped
    after its data was read (pending load)."""
    timeout = seconds
    for attempt in range(KILL_ATTEMPTS):
        db = copy_db(world.baseline, world.root / f"{name}-{attempt}")
        process = spawn(db, *args, env=world.env)
        began = working_from(db, process)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
        ran = time.monotonic() - began
        code, _, err = finish(process)
        assert "Traceback" not in err, err
        if code == -signal.SIGKILL:
            return db, left_pending(db)
        # It ended first: the machine is quicker now than when the clean run was timed. The next kill comes
        # earlier, and inside this run's own work.
        timeout = min(timeout * EARLIER, ran * EARLIER)
    raise AssertionError(f"`{' '.join(args)}` ended each time before its kill, {seconds:.2f} s into its work")


def kill_in_load(world: World, name: str, *args: str) -> tuple[Path, bool]:
    """Start `args` on a copy of the baseline and SIGKILL it as soon as its data is read and a load is
    pending: the moment the timed kills aim at, found by watching the run rather than the clock (which a
    busy machine stretches). The copy, and whether a load was left pending (not when the run finished
    its load between the look and the kill: try again)."""
    for attempt in range(3):
        db = copy_db(world.baseline, world.root / f"{name}-{attempt}")
        process = spawn(db, *args, env=world.env)
        deadline = time.monotonic() + HANG_GUARD_SECONDS
        while process.poll() is None and time.monotonic() < deadline:
            if left_pending(db):
                process.kill()
                break
            time.sleep(0.002)
        finish(process)
        if left_pending(db):
            return db, True
    return db, False


def assert_landed(returncode: int, err: str, code: int, command: str) -> None:
    """The signal reached a running command: it stopped with `code` and the rerun message, or it came while
    the last writes ran and the run finished, saying so."""
    assert "Traceback" not in err, err
    assert "received, stopping" in err, f"no handler saw the signal:\n{err}"
    if returncode == 0:
        assert "finished before it could stop; nothing to resume" in err, err
        return
    assert returncode == code, err
    assert f"rerun `{command}` to resume" in err, err


def package_pending(db: Path, dataset: str) -> bool:
    """Whether the pipeline of `dataset` holds a load package between extract and load (its load step)."""
    working = db.parent / f".{db.name}.dlt" / dataset
    return any(
        any(folder.iterdir())
        for folder in (working / "normalize" / "extracted", working / "load" / "normalized")
        if folder.is_dir()
    )


def import_args(world: World) -> tuple[str, ...]:
    return ("import-csv", str(world.export), "--list", "Events")


def killed_and_resumed(
    world: World, label: str, args: tuple[str, ...], seconds: float, reference: Path
) -> None:
    """Kill `args` at KILL_MOMENTS moments spread over `seconds` (its clean run's work) and once while
    its load is pending; after each, a plain rerun must give `reference`, leaving no CSV staging behind,
    and say it resumed the killed run when that had read its data.
    At least one kill must have landed after the data was read, or the load was not tested."""
    moments: list[float | None] = [seconds * k / KILL_MOMENTS for k in range(1, KILL_MOMENTS)]
    moments += [seconds * 0.95, None]  # None: the kill made while the load is pending
    pending = 0
    for i, moment in enumerate(moments):
        if moment is None:
            db, stopped_late = kill_in_load(world, f"kill-{label}-in-load", *args)
            assert stopped_late, f"the {label} could not be killed while its load was pending"
        else:
            db, stopped_late = kill_at(world, f"kill-{label}-{i}", moment, *args)
        pending += stopped_late
        result = cli(db, *args, env=world.env)
        assert result.returncode == 0, (moment, result.stderr)
        if stopped_late:  # what the killed run had read was finished first, and the rerun says so
            assert f"resumed: `{args[0]}` was interrupted" in result.stdout, (moment, result.stdout)
        assert_same(db, reference)
        assert not list((db.parent / f".{db.name}.dlt").rglob("csv-staging")), "staging left behind"
    assert pending >= 1, f"no kill landed in the load; moments {moments}"
