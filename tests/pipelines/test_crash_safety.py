"""Killed and concurrent runs: a plain rerun always gives the database a clean run gives (see crash_world
for the world they share). Killed imports: test_crash_kills_import; signals: test_crash_signals, which
share the world and the worker of this module."""

from __future__ import annotations

import os
import subprocess
import time

import duckdb
import pytest

from tests.conftest import BIN
from tests.pipelines.crash_world import (
    HANG_GUARD_SECONDS,
    World,
    assert_same,
    cli,
    copy_db,
    finish,
    holds_lock,
    killed_and_resumed,
    requests_made,
    spawn,
    wait_until,
)

pytestmark = pytest.mark.e2e


def test_killed_extracts_are_resumed_by_a_plain_rerun(world: World) -> None:
    killed_and_resumed(world, "extract", ("extract",), world.extract_seconds, world.extracted)


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
    assert_same(db, world.extracted_and_imported())


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
    """A reader that keeps the file open past `--lock-wait` fails the extract (it waits that long for each
    open first); the rerun resumes."""
    db = copy_db(world.baseline, world.root / "reader-during")
    before = requests_made(world)
    process = spawn(db, "--lock-wait", "2", "extract", env=world.env)
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
