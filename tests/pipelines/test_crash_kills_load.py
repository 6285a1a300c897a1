"""`load` killed at moments found by watching it (reading its file, loading its package, its rows going
in place): readers then see the table it replaces or the whole new one, never an empty or partial one; a
`plan` in between finishes the load whose rows were read and plans from them, or refuses and says to load
again, and loading again ends it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from pipelines.errors import CommandError
from pipelines.load import load
from pipelines.plan import plan
from tests.pipelines.crash_world import HANG_GUARD_SECONDS, copy_db, finish, spawn
from tests.sync.world import World, planned

pytestmark = pytest.mark.e2e

NEW_ROWS = 50_000  # enough that the file's read and its load each last a moment a poll can catch
OLD = {"old1@example.com", "old2@example.com"}
NEW = {"new@example.com"}
# The audience keeps the few rows of country FR: a plan stays small whichever table it reads.
AUDIENCES = (
    "-- audience: news\n-- list: Newsletter\n-- on_exit: keep\n-- properties: firstname, country\n"
    "create or replace view audience_news as select email, firstname, country from crm.profiles "
    "where country = 'FR'\n"
)


def working(db: Path) -> Path:
    return db.parent / f".{db.name}.dlt" / "crm"


def journaled(db: Path) -> dict[str, object]:
    try:
        entry = json.loads((working(db) / "interrupted_run.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):  # none yet, or being replaced as we look
        return {}
    return entry if isinstance(entry, dict) else {}


def reading(db: Path) -> bool:
    """The load has recorded its start and is reading the file (no package yet)."""
    entry = journaled(db)
    return entry.get("command") == "load" and entry.get("load_id") is None


def loading(db: Path) -> bool:
    """The file's package is written and is being loaded."""
    return bool(journaled(db).get("load_id"))


class Copying:
    """The file's rows go into place of the table's: once its package is loaded, or once a copy job (how
    dlt's `insert-from-staging` copies them: a `.sql` job) has committed its first write (DuckDB's log
    changed since the job started)."""

    def __init__(self) -> None:
        self.log_at_start: int | None = None

    def __call__(self, db: Path) -> bool:
        package = journaled(db).get("load_id")
        if package and (working(db) / "load" / "loaded" / str(package)).is_dir():
            return True
        if not any((working(db) / "load" / "normalized").glob("*/started_jobs/*.sql")):
            return False
        log = db.with_name(f"{db.name}.wal")
        size = log.stat().st_size if log.exists() else 0
        if self.log_at_start is None:
            self.log_at_start = size
        return size != self.log_at_start


# Each moment, as a new watcher for each run.
MOMENTS: dict[str, Callable[[], Callable[[Path], bool]]] = {
    "reading": lambda: reading,
    "loading": lambda: loading,
    "copying": Copying,
}


def emails(db: Path) -> tuple[int, set[str]]:
    """crm.profiles as a reader sees it: its row count and its FR emails."""
    with duckdb.connect(str(db), read_only=True) as con:
        count = con.sql("select count(*) from crm.profiles").fetchall()[0][0]
        fr = {r[0] for r in con.sql("select email from crm.profiles where country = 'FR'").fetchall()}
    return int(count), fr


def kill_when(db: Path, ready: Callable[[Path], bool], file: Path) -> bool:
    """Start `load FILE`, SIGKILL it as soon as `ready` holds; whether it was killed (not finished)."""
    process = spawn(db, "load", str(file), "--table", "profiles", env={})
    deadline = time.monotonic() + HANG_GUARD_SECONDS
    try:
        while process.poll() is None and time.monotonic() < deadline:
            if ready(db):
                process.kill()
                break
            time.sleep(0.002)
    finally:
        code, _, err = finish(process)
    assert "Traceback" not in err, err
    return code == -9


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A database with the old crm.profiles loaded, and the new file."""
    root = tmp_path_factory.mktemp("kill-load")
    db = root / "base" / "k.duckdb"
    db.parent.mkdir()
    World([]).build(db)
    old = root / "old.csv"
    old.write_text(
        "email,firstname,country\n" + "".join(f"{e},Old,FR\n" for e in sorted(OLD)), encoding="utf-8"
    )
    load(db=str(db), file=str(old), table="profiles")
    new = root / "new.csv"
    with duckdb.connect() as con:
        con.execute(
            f"copy (select 'new@example.com' as email, 'New' as firstname, 'FR' as country union all "
            f"select 'u' || i || '@example.com', 'U', 'DE' from range({NEW_ROWS - 1}) t(i)) "
            f"to '{new}' (header)"
        )
    return db, new


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_a_killed_load_leaves_the_old_table_or_the_new_one_and_plan_never_reads_a_partial_one(
    files: tuple[Path, Path], tmp_path: Path, moment: str
) -> None:
    base, new = files
    for attempt in range(3):  # a busy machine may let the load finish between the look and the kill
        db = copy_db(base, tmp_path / f"attempt{attempt}")
        if kill_when(db, MOMENTS[moment](), new):
            break
    else:
        pytest.fail(f"the load could not be killed at {moment}")

    count, fr = emails(db)
    assert (count, fr) in ((len(OLD), OLD), (NEW_ROWS, NEW)), (count, fr)
    source = db.parent / "audiences.sql"
    source.write_text(AUDIENCES, encoding="utf-8")
    try:
        result = plan(db=str(db), audiences=str(source))
    except CommandError as refused:  # a load that had not read its file: nothing to finish it with
        assert moment == "reading", refused
        assert refused.exit_code == 2
        assert "crm.profiles: the load of" in str(refused) and str(new) in str(refused)
        assert f"Load it again: mailjet-elt load {new} --table profiles" in str(refused)
        assert emails(db) == (len(OLD), OLD)
        assert load(db=str(db), file=str(new), table="profiles").rows == NEW_ROWS  # what the message says
        plan(db=str(db), audiences=str(source))
        assert set(planned(db)) == NEW
    else:
        # The plan first finished the load whose rows were read (as any loading command does).
        assert result.plans[0].audience == "news"
        assert emails(db) == (NEW_ROWS, NEW)
        assert set(planned(db)) == NEW
