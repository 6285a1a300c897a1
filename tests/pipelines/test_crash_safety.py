"""Killed, interrupted and concurrent runs: a plain rerun always gives the database a clean run gives.

Each case starts from the same baseline database (an extract, then a CSV import whose rows are attached
to API contacts), while the sandbox has changed since (contacts deleted and added, memberships removed),
so the rerun has rows to add and rows to remove. The reference is one uninterrupted extract (or import)
from that baseline; every view of `mailjet` and every table of `mailjet_api` and `mailjet_csv` is
compared row for row with it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests.conftest import BIN, Api, creds, run_cli, start

CONTACTS = 12_000
KILL_MOMENTS = 12
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
    extract_seconds: float
    import_seconds: float


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


def assert_same(db: Path, reference: Path) -> None:
    got, want = tables(db), tables(reference)
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
        if journal.exists() and json.loads(journal.read_text(encoding="utf-8")).get("load_id"):
            return True
        if any(any((working / sub).glob("*/*")) for sub in ("normalize/extracted", "load/normalized")):
            return True
    return False


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    app = start(contacts=CONTACTS)
    api = Api(app)
    env = {**creds(api), "MAILJET__BACKOFF_SECONDS": "0.01"}
    root = tmp_path_factory.mktemp("crash")
    baseline = root / "baseline" / "mj.duckdb"
    baseline.parent.mkdir()
    assert cli(baseline, "extract", env=env).returncode == 0
    contacts = api.data("contact", Limit=40, Offset=100, Sort="ID")
    # A CSV export about API contacts (properties, a list membership) and a few people only in the file.
    attached = root / "attached.csv"
    attached.write_text(
        "email,first name,status\n"
        + "".join(f"{c['Email'].upper()},Ann{i},subscribed\n" for i, c in enumerate(contacts[:20]))
        + "".join(f"file{i}@example.com,File{i},unsubscribed\n" for i in range(20)),
        encoding="utf-8",
    )
    assert cli(baseline, "import-csv", str(attached), "--list", "Newsletter", env=env).returncode == 0
    # Mailjet changes: two contacts with file rows are deleted for good, memberships go, contacts come.
    for contact in contacts[:2]:
        gone = api.session.delete(f"{api.base}/v4/contacts/{contact['ID']}", timeout=30)
        assert gone.status_code in (200, 204)
    assert api.admin("POST", "contacts/purge").status_code == 200
    for member in api.data("listrecipient", Limit=5, Offset=50, Sort="ID"):
        assert api.delete(f"listrecipient/{member['ID']}").status_code == 204
    for i in range(5):
        assert api.post("contact", {"Email": f"new{i}@example.com"}).status_code == 201

    extracted = copy_db(baseline, root / "extracted")
    began = time.monotonic()
    result = cli(extracted, "extract", env=env)
    extract_seconds = time.monotonic() - began
    assert result.returncode == 0, result.stderr
    assert " before)" in result.stdout  # the rerun replaces tables that lost rows

    export = root / "export.csv"
    lines = ["Email;Name;Country;Status"]
    lines += [f"user{i}@example.org;User {i};FR;{'unsub' if i % 9 == 0 else 'active'}" for i in range(60_000)]
    lines += ["not an email;x;y;active", "user7@example.org;dup;FR;active"]
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    imported = copy_db(baseline, root / "imported")
    began = time.monotonic()
    result = cli(imported, "import-csv", str(export), "--list", "Events", env=env)
    import_seconds = time.monotonic() - began
    assert result.returncode == 0, result.stderr
    yield World(api, env, root, baseline, extracted, imported, export, extract_seconds, import_seconds)
    app.stop()


def kill_at(world: World, name: str, seconds: float, *args: str) -> tuple[Path, bool]:
    """Start `args` on a copy of the baseline, SIGKILL it after `seconds`; the copy and whether the run
    was stopped after its data was read (pending load)."""
    db = copy_db(world.baseline, world.root / name)
    process = spawn(db, *args, env=world.env)
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
    finish(process)
    return db, left_pending(db)


def assert_stopped(returncode: int, err: str, code: int, command: str) -> None:
    """Stopped with `code` and the rerun message; or, when the signal came during the last writes, the
    run finished and says so (exit 0)."""
    assert "Traceback" not in err, err
    if returncode == 0:
        # Either the signal came while the last writes ran (and the run says so), or the run had ended
        # before the signal reached it (then no handler ran at all). The rerun's comparison follows.
        if "received, stopping" in err:
            assert "finished before it could stop; nothing to resume" in err, err
        return
    assert returncode == code, err
    assert f"rerun `{command}` to resume" in err, err


def import_args(world: World) -> tuple[str, ...]:
    return ("import-csv", str(world.export), "--list", "Events")


def test_killed_extracts_are_resumed_by_a_plain_rerun(world: World) -> None:
    moments = [world.extract_seconds * k / KILL_MOMENTS for k in range(1, KILL_MOMENTS)]
    moments.append(world.extract_seconds * 0.95)
    pending = 0
    for i, moment in enumerate(moments):
        db, stopped_late = kill_at(world, f"kill-extract-{i}", moment, "extract")
        pending += stopped_late
        result = cli(db, "extract", env=world.env)
        assert result.returncode == 0, (moment, result.stderr)
        assert_same(db, world.extracted)
    # Some kills must have landed after the data was read, or the test did not test the load.
    assert pending >= 1, f"no kill landed in the load; moments {moments}"


def test_killed_imports_are_resumed_by_a_plain_rerun(world: World) -> None:
    moments = [world.import_seconds * k / 10 for k in range(1, 10)]
    moments.append(world.import_seconds * 0.97)
    pending = 0
    for i, moment in enumerate(moments):
        db, stopped_late = kill_at(
            world, f"kill-import-{i}", moment, "import-csv", str(world.export), "--list", "Events"
        )
        pending += stopped_late
        result = cli(db, "import-csv", str(world.export), "--list", "Events", env=world.env)
        assert result.returncode == 0, (moment, result.stderr)
        assert_same(db, world.imported)
        assert not list((db.parent / f".{db.name}.dlt").rglob("csv-staging")), "staging left behind"
    assert pending >= 1, f"no kill landed in the load; moments {moments}"


def test_an_extract_after_a_killed_import_loads_both(world: World) -> None:
    """The interrupted import is completed first; the extract then does its own work."""
    db, stopped_late = kill_at(
        world,
        "import-then-extract",
        world.import_seconds * 0.9,
        "import-csv",
        str(world.export),
        "--list",
        "Events",
    )
    result = cli(db, "extract", env=world.env)
    assert result.returncode == 0, result.stderr
    if stopped_late:
        assert "resumed: `import-csv` was interrupted" in result.stdout, result.stdout
    assert cli(db, "import-csv", str(world.export), "--list", "Events", env=world.env).returncode == 0
    reference = copy_db(world.extracted, world.root / "import-then-extract-ref")
    assert cli(reference, "import-csv", str(world.export), "--list", "Events", env=world.env).returncode == 0
    assert_same(db, reference)


@pytest.mark.parametrize(
    ("signals", "code", "fraction"),
    [
        pytest.param([signal.SIGINT], 130, 0.5, id="ctrl-c-fetching"),
        pytest.param([signal.SIGINT, signal.SIGINT], 130, 0.5, id="ctrl-c-twice-fetching"),
        pytest.param([signal.SIGTERM], 143, 0.5, id="sigterm-fetching"),
        pytest.param([signal.SIGINT], 130, 0.85, id="ctrl-c-late"),
        pytest.param([signal.SIGTERM, signal.SIGTERM], 143, 0.85, id="sigterm-twice-late"),
    ],
)
def test_interrupted_extract_exits_cleanly_and_resumes(
    world: World, signals: list[int], code: int, fraction: float
) -> None:
    name = f"signal-{'-'.join(str(int(s)) for s in signals)}-{fraction}"
    db = copy_db(world.baseline, world.root / name)
    process = spawn(db, "extract", env=world.env)
    time.sleep(world.extract_seconds * fraction)
    if process.poll() is None:
        for sig in signals:
            process.send_signal(sig)
            time.sleep(0.05)
        returncode, _, err = finish(process)
        assert_stopped(returncode, err, code, "extract")
    else:
        finish(process)
    result = cli(db, "extract", env=world.env)
    assert result.returncode == 0, result.stderr
    assert_same(db, world.extracted)


def test_two_extracts_at_once_take_turns(world: World) -> None:
    db = copy_db(world.baseline, world.root / "two-extracts")
    first = spawn(db, "extract", env=world.env)
    wait_until(lambda: holds_lock(db, first.pid), "the first extract holds the lock")
    second = spawn(db, "extract", env=world.env)
    (code1, _, err1), (code2, _, err2) = finish(first), finish(second)
    assert (code1, code2) == (0, 0), (err1, err2)
    assert "the database is in use by `mailjet-elt extract` (pid" in err2, err2
    assert_same(db, world.extracted)


def test_a_second_writer_that_cannot_wait_exits_1_naming_the_holder(world: World) -> None:
    db = copy_db(world.baseline, world.root / "no-wait")
    first = spawn(db, "extract", env=world.env)
    wait_until(lambda: holds_lock(db, first.pid), "the extract holds the lock")
    second = cli(db, "--lock-wait", "0.5", "import-csv", str(world.export), env=world.env)
    code1, _, err1 = finish(first)
    assert code1 == 0, err1
    assert second.returncode == 1, second.stderr
    assert f"in use by `mailjet-elt extract` (pid {first.pid}, since" in second.stderr, second.stderr
    assert "--lock-wait" in second.stderr
    assert_same(db, world.extracted)


def test_extract_and_import_at_once_give_both(world: World) -> None:
    db = copy_db(world.baseline, world.root / "extract-and-import")
    extract = spawn(db, "extract", env=world.env)
    time.sleep(0.3)
    imported = spawn(db, "import-csv", str(world.export), "--list", "Events", env=world.env)
    (code1, _, err1), (code2, _, err2) = finish(extract), finish(imported)
    assert (code1, code2) == (0, 0), (err1, err2)
    reference = copy_db(world.extracted, world.root / "extract-and-import-ref")
    assert cli(reference, "import-csv", str(world.export), "--list", "Events", env=world.env).returncode == 0
    assert_same(db, reference)


def test_a_reader_holding_the_file_is_waited_for_then_named(world: World) -> None:
    db = copy_db(world.baseline, world.root / "reader")
    log = world.root / "reader-waiting.log"
    with duckdb.connect(str(db), read_only=True):
        refused = cli(db, "--lock-wait", "1", "extract", env=world.env)
        with log.open("w", encoding="utf-8") as stderr:
            waiting = subprocess.Popen(
                [str(BIN), "--db", str(db), "extract"],
                env={**os.environ, **world.env},
                cwd=db.parent,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                text=True,
            )
            wait_until(lambda: "waiting up to" in log.read_text(encoding="utf-8"), "the extract waits")
    code = waiting.wait(timeout=HANG_GUARD_SECONDS)
    err = log.read_text(encoding="utf-8")
    assert refused.returncode == 1, refused.stderr
    assert "is open in another process" in refused.stderr and f"PID {os.getpid()}" in refused.stderr
    assert code == 0, err
    assert "open in another process; waiting up to" in err
    assert_same(db, world.extracted)


def test_a_reader_opening_the_file_during_the_extract_fails_it_and_the_rerun_resumes(world: World) -> None:
    db = copy_db(world.baseline, world.root / "reader-during")
    before = requests_made(world)
    process = spawn(db, "extract", env=world.env)
    wait_until(lambda: requests_made(world) > before, "the extract reads Mailjet")  # past the lock
    try:
        with duckdb.connect(str(db), read_only=True):
            code, _, err = finish(process)
    except duckdb.IOException:  # the writer had the file at that moment: nothing to test this time
        code, _, err = finish(process)
    assert code in (0, 1), err
    if code == 1:
        assert "was opened by another process" in err and f"PID {os.getpid()}" in err, err
    result = cli(db, "extract", env=world.env)
    assert result.returncode == 0, result.stderr
    assert_same(db, world.extracted)


@pytest.mark.parametrize("fraction", [pytest.param(0.4, id="staging"), pytest.param(0.8, id="loading")])
def test_interrupted_import_exits_cleanly_and_resumes(world: World, fraction: float) -> None:
    db = copy_db(world.baseline, world.root / f"import-signal-{fraction}")
    process = spawn(db, *import_args(world), env=world.env)
    time.sleep(world.import_seconds * fraction)
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        returncode, _, err = finish(process)
        assert_stopped(returncode, err, 130, "import-csv")
    else:
        finish(process)
    result = cli(db, *import_args(world), env=world.env)
    assert result.returncode == 0, result.stderr
    assert_same(db, world.imported)
