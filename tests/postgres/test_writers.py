"""One writer at a time on a team warehouse: two `mailjet-elt` processes with folders of their own (two
machines, or two checkouts) writing one PostgreSQL database take turns on the lock the warehouse holds, and
a writer killed with SIGKILL leaves nothing that blocks the next.

The first writer is held inside its work, deterministically: the test locks the table its `load` writes,
so the writer keeps the warehouse's lock for as long as the test wants (no sleeps, no timing)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from pipelines.load import load
from pipelines.warehouse.server_lock import lock_key
from tests.conftest import BIN
from tests.postgres.conftest import Database

PATIENCE_SECONDS = 60  # how long the test waits for a process to reach a state (a bound, not a timing)


def profiles(folder: Path, name: str, first: int) -> Path:
    path = folder / name
    path.write_text(
        "email,firstname\n" + "".join(f"p{i}@example.com,P{i}\n" for i in range(first, first + 5))
    )
    return path


def start_load(postgres: Database, cwd: Path, file: Path) -> subprocess.Popen[str]:
    """`mailjet-elt --destination postgres load FILE --table profiles --append` from its own folder: its
    working state goes to `cwd/.mailjet-elt/` (as on another machine)."""
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "DLT_LOCAL_DIR"} | {
        "DESTINATION__POSTGRES__CREDENTIALS": postgres.url
    }
    return subprocess.Popen(
        [str(BIN), "--destination", "postgres", "load", str(file), "--table", "profiles", "--append"],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def until(what: str, ready: Callable[[], bool], *processes: subprocess.Popen[str]) -> None:
    """Wait until `ready()`, polling; fails when a process ends first or after PATIENCE_SECONDS."""
    deadline = time.monotonic() + PATIENCE_SECONDS
    while not ready():
        for process in processes:
            if process.poll() is not None:
                _, err = process.communicate()
                pytest.fail(f"pid {process.pid} ended (exit {process.returncode}) before {what}: {err}")
        assert time.monotonic() < deadline, f"not {what} after {PATIENCE_SECONDS} s"
        time.sleep(0.05)


def holders(postgres: Database) -> list[str]:
    """The names of the sessions that hold the writer lock of the database."""
    first, second = lock_key()
    return [
        str(r[0])
        for r in postgres.rows(
            "select a.application_name from pg_locks l join pg_stat_activity a on a.pid = l.pid "
            f"where l.locktype = 'advisory' and l.granted and l.classid = {first} and l.objid = {second}"
        )
    ]


def waiters(postgres: Database) -> int:
    """Sessions whose last statement asked for the writer lock (and did not get it)."""
    rows = postgres.rows(
        "select count(*) from pg_stat_activity where query ilike '%pg_try_advisory_lock%' "
        "and pid <> pg_backend_pid() and application_name not like 'mailjet-elt %'"
    )
    return int(rows[0][0])


@contextmanager
def table_locked(postgres: Database) -> Iterator[Callable[[], None]]:
    """`crm.profiles` locked against every reader and writer until the returned function is called."""
    connection = psycopg2.connect(postgres.url)
    cursor = connection.cursor()
    cursor.execute("lock table crm.profiles in access exclusive mode")
    try:
        yield connection.rollback
    finally:
        connection.close()


def loads(postgres: Database) -> list[tuple[datetime, datetime]]:
    """(started, finished) of each load into `crm`, in the order they finished: a load's id is the time
    its extract started (under the lock), `inserted_at` the time it was done."""
    rows: list[Any] = postgres.rows("select load_id, inserted_at from crm._dlt_loads order by inserted_at")
    return [(datetime.fromtimestamp(float(r[0]), UTC), r[1]) for r in rows]


def test_two_writers_with_folders_of_their_own_take_turns(
    postgres: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(
        db=str(tmp_path / "unused.duckdb"),
        destination="postgres",
        file=str(profiles(tmp_path, "a.csv", 0)),
        table="profiles",
    )
    before = len(loads(postgres))
    with table_locked(postgres) as unlock:
        first = start_load(postgres, tmp_path / "machine-a", profiles(tmp_path, "b.csv", 5))
        until("the first writer holds the lock", lambda: len(holders(postgres)) == 1, first)
        second = start_load(postgres, tmp_path / "machine-b", profiles(tmp_path, "c.csv", 10))
        until("the second writer waits", lambda: waiters(postgres) == 1, first, second)
        unlock()
        _, err_first = first.communicate(timeout=PATIENCE_SECONDS)
        _, err_second = second.communicate(timeout=PATIENCE_SECONDS)

    assert first.returncode == 0, err_first
    assert second.returncode == 0, err_second
    assert "in use by" not in err_first
    assert f"the database is in use by `mailjet-elt load` (pid {first.pid} on " in err_second
    assert postgres.rows("select count(*), count(distinct email) from crm.profiles")[0] == (15, 15)
    done = loads(postgres)[before:]
    assert len(done) == 2
    (_, first_done), (second_started, _) = done
    assert first_done <= second_started  # the second began once the first had finished: no interleaving
    for machine in ("machine-a", "machine-b"):
        assert [p.name for p in (tmp_path / machine / ".mailjet-elt").iterdir()] == [
            p.name for p in (tmp_path / "project" / ".mailjet-elt").iterdir()
        ]
    assert holders(postgres) == []


def test_a_writer_killed_with_sigkill_frees_the_warehouse_lock(
    postgres: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(
        db=str(tmp_path / "unused.duckdb"),
        destination="postgres",
        file=str(profiles(tmp_path, "a.csv", 0)),
        table="profiles",
    )
    with table_locked(postgres):
        killed = start_load(postgres, tmp_path / "machine-a", profiles(tmp_path, "b.csv", 5))
        until("the writer holds the lock", lambda: len(holders(postgres)) == 1, killed)
        killed.send_signal(signal.SIGKILL)
        killed.communicate(timeout=PATIENCE_SECONDS)
        until("the server frees the lock of the killed writer", lambda: holders(postgres) == [])
    assert killed.returncode == -signal.SIGKILL

    after = start_load(postgres, tmp_path / "machine-b", profiles(tmp_path, "c.csv", 10))
    _, err = after.communicate(timeout=PATIENCE_SECONDS)

    assert after.returncode == 0, err
    assert "in use by" not in err
    assert postgres.rows("select count(*) from crm.profiles")[0][0] == 10  # the killed load added nothing
