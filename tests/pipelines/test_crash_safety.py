"""Killed, interrupted and concurrent runs: a plain rerun always gives the database a clean run gives
(see crash_world for the world they share). Killed imports: test_crash_kills_import."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import duckdb
import pytest

from tests.conftest import BIN
from tests.pipelines.crash_world import (
    HANG_GUARD_SECONDS,
    World,
    assert_landed,
    assert_same,
    cli,
    copy_db,
    finish,
    holds_lock,
    import_args,
    killed_and_resumed,
    package_pending,
    requests_made,
    spawn,
    wait_until,
)

pytestmark = pytest.mark.e2e


def test_killed_extracts_are_resumed_by_a_plain_rerun(world: World) -> None:
    killed_and_resumed(world, "extract", ("extract",), world.extract_seconds, world.extracted)


@pytest.mark.parametrize(
    ("signals", "code", "fraction"),
    [
        pytest.param([signal.SIGINT], 130, 0.5, id="ctrl-c-fetching"),
        pytest.param([signal.SIGINT, signal.SIGINT], 130, 0.5, id="ctrl-c-twice-fetching"),
        pytest.param([signal.SIGTERM], 143, 0.5, id="sigterm-fetching"),
        pytest.param([signal.SIGINT], 130, 0.95, id="ctrl-c-late"),
        pytest.param([signal.SIGTERM, signal.SIGTERM], 143, 0.95, id="sigterm-twice-late"),
    ],
)
def test_interrupted_extract_exits_cleanly_and_resumes(
    world: World, signals: list[int], code: int, fraction: float
) -> None:
    """The signals are sent once the extract has made `fraction` of a clean extract's requests: it is
    still reading, so they land in a running command, every time."""
    name = f"signal-{'-'.join(str(int(s)) for s in signals)}-{fraction}"
    db = copy_db(world.baseline, world.root / name)
    before = requests_made(world)
    process = spawn(db, "extract", env=world.env)
    wait_until(
        lambda: (
            requests_made(world) - before >= fraction * world.extract_requests or process.poll() is not None
        ),
        f"the extract has made {fraction:.0%} of its requests",
    )
    assert process.poll() is None, "the extract ended before the signal: nothing was interrupted"
    for sig in signals:
        process.send_signal(sig)
        time.sleep(0.05)
    returncode, _, err = finish(process)
    assert_landed(returncode, err, code, "extract")
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


@pytest.mark.parametrize("moment", ["staging", "loading"])
def test_interrupted_import_exits_cleanly_and_resumes(world: World, moment: str) -> None:
    """Ctrl-C once the import is staging the file (its staging folder exists), or once its rows wait in a
    load package: a running command gets it, every time."""
    db = copy_db(world.baseline, world.root / f"import-signal-{moment}")
    process = spawn(db, *import_args(world), env=world.env)
    staging = db.parent / f".{db.name}.dlt" / "mailjet_csv" / "csv-staging"

    def reached() -> bool:
        return staging.is_dir() if moment == "staging" else package_pending(db, "mailjet_csv")

    wait_until(lambda: reached() or process.poll() is not None, f"the import is {moment}")
    assert process.poll() is None, f"the import ended before it was seen {moment}: nothing was interrupted"
    process.send_signal(signal.SIGINT)
    returncode, _, err = finish(process)
    assert_landed(returncode, err, 130, "import-csv")
    result = cli(db, *import_args(world), env=world.env)
    assert result.returncode == 0, result.stderr
    assert_same(db, world.imported)
