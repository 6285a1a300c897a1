"""The writer lock of a warehouse that lends no lock of its own (BigQuery, Snowflake, Databricks, MotherDuck):
a leased row in `mailjet_sync.writer_lease`. PostgreSQL is the server warehouse these tests have, and the
lease is what `[warehouse] writer_lock = "lease"` chooses there: the same statements, transpiled, on a real
server, by `mailjet-elt` processes with folders of their own (two machines).

As in test_writers.py, a writer is held inside its work by a lock on the table its `load` writes; the
lease is short (two seconds), so that running out and renewing happen within a test."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pipelines.load import load
from pipelines.warehouse import open_pipeline
from pipelines.warehouse.datasets import API_DATASET
from pipelines.warehouse.lease_lock import LeaseLock
from pipelines.warehouse.server_lock import writer_lock_kind
from tests.conftest import BIN
from tests.postgres.conftest import Database
from tests.postgres.test_writers import PATIENCE_SECONDS, loads, profiles, table_locked, until

LEASE_SECONDS = 2


def start_load(
    postgres: Database, cwd: Path, file: Path, *options: str, lease: float = LEASE_SECONDS
) -> subprocess.Popen[str]:
    """`mailjet-elt --destination postgres [OPTIONS] load FILE --table profiles --append` from a folder of
    its own, on the leased row."""
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "DLT_LOCAL_DIR"} | {
        "DESTINATION__POSTGRES__CREDENTIALS": postgres.url,
        "WAREHOUSE__WRITER_LOCK": "lease",
        "WAREHOUSE__LEASE_SECONDS": str(lease),
    }
    command = ["load", str(file), "--table", "profiles", "--append"]
    return subprocess.Popen(
        [str(BIN), "--destination", "postgres", *options, *command],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def lease(postgres: Database) -> list[tuple[Any, ...]]:
    """The lease's rows: (holder, token, expires_at)."""
    return postgres.rows("select holder, token, expires_at from mailjet_sync.writer_lease")


def held_by(postgres: Database, pid: int) -> bool:
    rows = lease(postgres) if postgres.rows("select to_regclass('mailjet_sync.writer_lease')")[0][0] else []
    return len(rows) == 1 and f"(pid {pid} on " in str(rows[0][0] or "")


def lease_sessions(postgres: Database) -> int:
    """Sessions whose last statement read or wrote the lease: its holder's, and each waiting writer's."""
    rows = postgres.rows(
        "select count(*) from pg_stat_activity where query ilike '%mailjet_sync.writer_lease%' "
        "and pid <> pg_backend_pid() and datname = current_database()"
    )
    return int(rows[0][0])


def first_load(postgres: Database, tmp_path: Path) -> None:
    """`crm.profiles` exists (so that the test can lock it) with five rows."""
    load(
        db=str(tmp_path / "unused.duckdb"),
        destination="postgres",
        file=str(profiles(tmp_path, "a.csv", 0)),
        table="profiles",
    )


def test_two_writers_take_turns_on_the_leased_row_while_the_first_renews_it(
    postgres: Database, tmp_path: Path
) -> None:
    first_load(postgres, tmp_path)
    before = len(loads(postgres))
    with table_locked(postgres) as unlock:
        first = start_load(postgres, tmp_path / "machine-a", profiles(tmp_path, "b.csv", 5))
        until("the first writer holds the lease", lambda: held_by(postgres, first.pid), first)
        taken_till = lease(postgres)[0][2]
        second = start_load(postgres, tmp_path / "machine-b", profiles(tmp_path, "c.csv", 10))
        until("the second writer waits", lambda: lease_sessions(postgres) == 2, first, second)
        # Three leases later the first still holds the row, renewed, and the second has waited all along.
        seen = [taken_till]
        while len(seen) < 7:
            until("the lease is renewed", lambda: lease(postgres)[0][2] > seen[-1], first, second)
            seen.append(lease(postgres)[0][2])
        assert (seen[-1] - taken_till).total_seconds() >= LEASE_SECONDS  # held past its first lease
        assert held_by(postgres, first.pid)
        unlock()
        _, err_first = first.communicate(timeout=PATIENCE_SECONDS)
        _, err_second = second.communicate(timeout=PATIENCE_SECONDS)

    assert first.returncode == 0, err_first
    assert second.returncode == 0, err_second
    assert f"the database is in use by `mailjet-elt load` (pid {first.pid} on " in err_second
    assert "leased till" in err_second
    assert postgres.rows("select count(*), count(distinct email) from crm.profiles")[0] == (15, 15)
    (_, first_done), (second_started, _) = loads(postgres)[before:]
    assert first_done <= second_started  # no interleaving
    assert [(holder, token) for holder, token, _ in lease(postgres)] == [(None, None)]  # freed at the end


def test_a_killed_writer_s_lease_runs_out_and_the_next_writer_takes_it(
    postgres: Database, tmp_path: Path
) -> None:
    first_load(postgres, tmp_path)
    with table_locked(postgres):
        # a lease long enough for the impatient writer below to start within it on a busy machine (it
        # took more than 4 s there), short enough for the last one to wait it out
        killed = start_load(postgres, tmp_path / "machine-a", profiles(tmp_path, "b.csv", 5), lease=15)
        until("the writer holds the lease", lambda: held_by(postgres, killed.pid), killed)
        killed.send_signal(signal.SIGKILL)
        killed.communicate(timeout=PATIENCE_SECONDS)
    assert killed.returncode == -signal.SIGKILL
    assert held_by(postgres, killed.pid)  # nobody freed it: it runs out

    impatient = start_load(
        postgres, tmp_path / "machine-b", profiles(tmp_path, "c.csv", 10), "--lock-wait", "0.3"
    )
    _, err = impatient.communicate(timeout=PATIENCE_SECONDS)
    assert impatient.returncode == 1, err
    assert f"in use by `mailjet-elt load` (pid {killed.pid} on " in err and "leased till" in err
    assert "Traceback" not in err

    after = start_load(postgres, tmp_path / "machine-c", profiles(tmp_path, "d.csv", 15))
    _, err = after.communicate(timeout=PATIENCE_SECONDS)
    assert after.returncode == 0, err
    assert postgres.rows("select count(*) from crm.profiles")[0][0] == 10  # the killed load added nothing
    assert [(holder, token) for holder, token, _ in lease(postgres)] == [(None, None)]


def test_a_writer_stopped_longer_than_its_lease_says_another_took_it(
    postgres: Database, tmp_path: Path
) -> None:
    """A writer that could not renew (stopped with SIGSTOP, as a machine asleep or cut off) finds, when it
    goes on, that the lease ran out and another writer took it: it ends with exit 1 saying so."""
    first_load(postgres, tmp_path)
    with table_locked(postgres) as unlock:
        stopped = start_load(postgres, tmp_path / "machine-a", profiles(tmp_path, "b.csv", 5))
        until("the first writer holds the lease", lambda: held_by(postgres, stopped.pid), stopped)
        stopped.send_signal(signal.SIGSTOP)
        try:
            other = start_load(postgres, tmp_path / "machine-b", profiles(tmp_path, "c.csv", 10))
            until("the lease runs out, the other takes it", lambda: held_by(postgres, other.pid), other)
            unlock()
            _, err_other = other.communicate(timeout=PATIENCE_SECONDS)
        finally:
            stopped.send_signal(signal.SIGCONT)
        _, err_stopped = stopped.communicate(timeout=PATIENCE_SECONDS)

    assert other.returncode == 0, err_other
    assert stopped.returncode == 1, err_stopped
    assert "writer lease ran out while this command worked" in err_stopped
    assert "took it: both may have written at once" in err_stopped  # the other has ended since
    assert "Traceback" not in err_stopped
    assert postgres.rows("select count(*) from crm.profiles")[0][0] == 15  # both loads landed whole


@pytest.mark.unit
def test_the_writer_lock_kind_follows_the_engine_unless_configured() -> None:
    assert writer_lock_kind("postgres", None) == "advisory"
    for dialect in ("bigquery", "snowflake", "databricks", "duckdb"):
        assert writer_lock_kind(dialect, None) == "lease"
        with pytest.raises(ValueError, match="has no advisory lock"):
            writer_lock_kind(dialect, "advisory")
    assert writer_lock_kind("postgres", "lease") == "lease"
    with pytest.raises(ValueError, match="one of advisory, lease"):
        writer_lock_kind("postgres", "row")


@pytest.mark.parametrize(
    ("setting", "value", "told"),
    [
        ("WRITER_LOCK", "row", "[warehouse] writer_lock = 'row': it is one of advisory, lease"),
        (
            "LEASE_SECONDS",
            "0",
            "[warehouse] lease_seconds = 0: it must be a number of seconds from 1 to 86400",
        ),
        ("LEASE_SECONDS", "abc", "[warehouse] lease_seconds = abc: it must be a number of seconds from 1 to"),
        ("LEASE_SECONDS", "inf", "[warehouse] lease_seconds = inf: it must be a number of seconds from 1 to"),
    ],
)
def test_a_writer_lock_setting_that_cannot_be_says_so_with_exit_2(
    postgres: Database, tmp_path: Path, setting: str, value: str, told: str
) -> None:
    cwd = tmp_path / "project"
    cwd.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "DLT_LOCAL_DIR"} | {
        "DESTINATION__POSTGRES__CREDENTIALS": postgres.url,
        "WAREHOUSE__WRITER_LOCK": "lease",
        f"WAREHOUSE__{setting}": value,
    }
    done = subprocess.run(
        [str(BIN), "--destination", "postgres", "load", str(profiles(tmp_path, "a.csv", 0)), "--table", "p"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=PATIENCE_SECONDS,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert told in done.stderr and "Traceback" not in done.stderr
    tables = "select count(*) from information_schema.tables where table_schema = 'crm'"
    assert postgres.rows(tables)[0][0] == 0  # nothing loaded


def lease_lock(
    postgres: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> LeaseLock:
    """A writer's lease, in this process, on the test's database."""
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", postgres.url)
    monkeypatch.chdir(tmp_path)
    pipeline = open_pipeline(str(tmp_path / "unused.duckdb"), "postgres", API_DATASET)
    return LeaseLock(pipeline.sql_client(), command, wait_seconds=5, lease_seconds=60)


def test_a_ctrl_c_just_after_the_lease_is_taken_frees_it(
    postgres: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interrupt lands after the update that took the lease committed, before the writer saw it was
    its own: the writer frees it on its way out, so the next one need not wait for it to run out."""
    interrupted = lease_lock(postgres, tmp_path, monkeypatch, "extract")
    seen = interrupted._mine

    def interrupt_once_taken() -> bool:
        if seen():
            raise KeyboardInterrupt
        return False

    monkeypatch.setattr(interrupted, "_mine", interrupt_once_taken)
    with pytest.raises(KeyboardInterrupt):
        interrupted.acquire()
    assert [(holder, token) for holder, token, _ in lease(postgres)] == [(None, None)]


def test_a_lease_whose_connection_was_cut_is_still_freed_at_the_end(
    postgres: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = lease_lock(postgres, tmp_path, monkeypatch, "apply")
    holder.acquire()
    assert held_by(postgres, os.getpid())
    postgres.rows(
        "select pg_terminate_backend(pid) from pg_stat_activity where pid <> pg_backend_pid() "
        "and datname = current_database() and query ilike '%writer_lease%'"
    )
    holder.release()  # the connection is made again for the free; no error reaches the command
    assert [(name, token) for name, token, _ in lease(postgres)] == [(None, None)]
