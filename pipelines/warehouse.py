"""The dlt pipelines commands load through — one per raw layer (`mailjet_api`, `mailjet_csv`), into
DuckDB at `--db` by default, or any dlt destination — and the `mailjet` views over them.

Loading commands go through `writing()`: it takes the one-writer lock, makes sure the DuckDB file can be
written, and first finishes whatever an interrupted run of either layer left behind, so that the
command's own work always starts from a settled database; the views are (re)created then, and again
after the command's load."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dlt
import duckdb
from dlt.common.destination.exceptions import SqlClientNotAvailable, UnknownDestinationModule
from dlt.common.pipeline import LoadInfo, get_dlt_pipelines_dir
from dlt.destinations.exceptions import (
    DatabaseException,
    DatabaseUndefinedRelation,
    DestinationConnectionError,
)
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.pipeline.exceptions import PipelineStepFailed
from dlt.pipeline.pipeline import Pipeline

from pipelines.errors import EXIT_FAILURE, EXIT_USAGE, CommandError
from pipelines.interrupts import InterruptHandler, reraise_if_interrupted
from pipelines.layers import (
    API_DATASET,
    CRM_DATASET,
    CSV_DATASET,
    MATCHED_DATASET,
    VIEWS_DATASET,
    LayoutError,
    check_layout,
    publish_views,
)
from pipelines.lock import LockTimeout, LockUnavailable, WriterLock
from pipelines.settings import CSV_STAGING_FOLDER, DEFAULT_DB, DEFAULT_LOCK_WAIT_SECONDS
from pipelines.superseded import ImportKey, finish_interrupted_import

LOCK_NAME = "mailjet_elt"  # the writer lock's file is `<pipelines folder>/mailjet_elt.lock`
# Each raw layer is loaded by a pipeline of the same name.
LAYERS = (API_DATASET, CSV_DATASET, CRM_DATASET)
# Merges of millions of rows: cap DuckDB's buffer memory (it spills to disk beyond it) so the extract's
# memory stays flat as the account grows; insertion order is meaningless for these tables.
DUCKDB_SETTINGS = {"memory_limit": "256MB", "preserve_insertion_order": False}


JOURNAL = "interrupted_run.json"  # in the pipeline's working folder while a command loads
# A replaced table changes in one transaction (readers never see it empty or half loaded).
REPLACE_STRATEGY = "insert-from-staging"


class WarehouseError(CommandError):
    """A database or destination choice that cannot work (exit 2); the message names the fix."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_USAGE)


class WarehouseBusy(CommandError):
    """Another process holds the database (a writer, or a DuckDB reader); a runtime failure, exit 1."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_FAILURE)


class ResumeFailed(CommandError):
    """What an interrupted run left behind could not be completed (exit 1); the message says what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_FAILURE)


def duckdb_path(db: str) -> Path:
    """The database file `--db` names; raises WarehouseError for a path that cannot be one."""
    if not db.strip():
        raise WarehouseError(f"--db is empty: name a database file, e.g. --db {DEFAULT_DB}")
    path = Path(db).expanduser().resolve()
    if path.is_dir():
        raise WarehouseError(
            f"--db {db} is a directory: name a database file in it, e.g. --db {path / DEFAULT_DB}"
        )
    if path.exists() and not path.is_file():
        raise WarehouseError(
            f"--db {db} is not a regular file (a device, pipe or socket): name a DuckDB database file, "
            f"e.g. --db {DEFAULT_DB}"
        )
    if path.stem in (VIEWS_DATASET, MATCHED_DATASET, *LAYERS):
        # DuckDB names the catalog after the file: `mailjet.contacts` would be ambiguous.
        raise WarehouseError(
            f"--db {db}: DuckDB names a database after its file, and `{path.stem}` is also a "
            f"dataset's name, so `{path.stem}.contacts` would be ambiguous. Choose another file name, "
            f"e.g. --db {path.with_name(DEFAULT_DB)}"
        )
    return path


def pipelines_dir(db: str, destination: str | None) -> Path | None:
    """Where the pipeline's working state lives: beside the DuckDB file, or dlt's default folder."""
    if destination in (None, "duckdb"):
        path = duckdb_path(db)
        return path.parent / f".{path.name}.dlt"
    return None


def open_pipeline(
    db: str = DEFAULT_DB, destination: str | None = None, dataset: str = API_DATASET
) -> Pipeline:
    """The pipeline writing `dataset` (`mailjet_api` or `mailjet_csv`; the pipeline bears its name).
    With DuckDB its working state sits beside the database file (`.<file>.dlt/`), so two databases
    never share cursors; other destinations take their credentials from dlt's usual config (e.g.
    DESTINATION__POSTGRES__CREDENTIALS). Full-refresh tables are replaced through the staging dataset,
    in one transaction per table."""
    # Scheduled runs must not grow the disk: drop each load's files once loaded, and empty the staging
    # tables merges go through (otherwise a second copy of every merged table stays in the database).
    dlt.config["load.delete_completed_jobs"] = True
    dlt.config["load.truncate_staging_dataset"] = True
    if destination in (None, "duckdb"):
        path = duckdb_path(db)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WarehouseError(
                f"--db {db}: cannot create the folder {path.parent} ({exc.strerror}); choose a writable "
                "location"
            ) from None
        credentials = DuckDbCredentials(str(path), global_config=dict(DUCKDB_SETTINGS))
        pipeline = dlt.pipeline(
            pipeline_name=dataset,
            destination=dlt.destinations.duckdb(credentials, replace_strategy=REPLACE_STRATEGY),
            dataset_name=dataset,
            pipelines_dir=str(pipelines_dir(db, destination)),
        )
    else:
        dlt.config[f"destination.{destination}.replace_strategy"] = REPLACE_STRATEGY
        try:
            pipeline = dlt.pipeline(pipeline_name=dataset, destination=destination, dataset_name=dataset)
            pipeline.destination.client_class  # noqa: B018  # imports the destination's driver now
        except UnknownDestinationModule:
            raise WarehouseError(
                f"--destination {destination}: dlt has no destination of that name; use one of dlt's "
                "(postgres, bigquery, snowflake, ...) or leave it out for DuckDB at --db"
            ) from None
        except ImportError as exc:
            package = exc.name or "of its driver"
            extra = f"dlt[{destination}]=={dlt.__version__}"
            raise WarehouseError(
                f"--destination {destination} needs the Python package {package}, which is not installed. "
                f'Install it with: .venv/bin/pip install "{extra}"'
            ) from None
    # Signals are the commands' business (pipelines/interrupts.py): dlt must not swap its handlers in
    # for the normalize and load steps. Its steps still stop on the flag those handlers raise.
    pipeline.config.runtime.intercept_signals = False
    return pipeline


def probe_duckdb(path: Path, db: str, wait_seconds: float, on_wait: Callable[[str], None]) -> None:
    """Open the DuckDB file for writing once, so that a file that is not a database, a folder that
    cannot be written or a reader holding the file is reported before any work starts. A reader is
    waited for up to `wait_seconds`."""
    deadline = time.monotonic() + wait_seconds
    told = False
    while True:
        try:
            duckdb.connect(str(path)).close()
            return
        except duckdb.IOException as exc:
            text = str(exc)
            if "lock" not in text.lower():
                raise WarehouseError(_duckdb_problem(db, path, text)) from None
            if time.monotonic() >= deadline:
                holder = lock_holder(exc)
                raise WarehouseBusy(
                    f"the database {path} is open in another process ({holder}); waited {wait_seconds:g} s. "
                    "Close that connection (a DuckDB shell or notebook has it open) and run this command "
                    "again, or wait longer with --lock-wait SECONDS"
                ) from None
            if not told:
                on_wait(f"the database file is open in another process; waiting up to {wait_seconds:g} s")
                told = True
            time.sleep(0.5)
        except duckdb.Error as exc:
            raise WarehouseError(_duckdb_problem(db, path, str(exc))) from None


DUCKDB_MAGIC = (8, b"DUCK")  # where DuckDB's file header holds its magic bytes


def check_existing_duckdb(path: Path, db: str) -> None:
    """Refuse a file that exists and is not a DuckDB database, from its header alone: opening it, even
    read-only, would make this process a reader that a running writer could trip over."""
    if not path.is_file():
        return
    offset, magic = DUCKDB_MAGIC
    try:
        with path.open("rb") as head:
            head.seek(offset)
            found = head.read(len(magic))
    except OSError as exc:
        raise WarehouseError(
            f"--db {db}: cannot read {path} ({exc.strerror}); check its permissions"
        ) from None
    if found != magic:
        raise WarehouseError(
            f"--db {db}: {path} is not a DuckDB database (its first bytes are not a DuckDB header). Point "
            "--db at a DuckDB file, or at a new path to create one"
        )


def _duckdb_problem(db: str, path: Path, text: str) -> str:
    first = text.splitlines()[0] if text else "unknown error"
    if "not a valid DuckDB database" in text or ("database file" in text.lower() and "valid" in text):
        return (
            f"--db {db}: {path} is not a DuckDB database ({first}). Point --db at a DuckDB file, or at a new "
            "path to create one"
        )
    if "Read-only file system" in text or "Permission denied" in text or "Cannot open file" in text:
        return f"--db {db}: cannot write {path} ({first}); choose a writable location"
    return f"--db {db}: cannot open {path} as a DuckDB database ({first})"


def lock_holder(exc: BaseException) -> str | None:
    """The process DuckDB names as holding the file, when that is why `exc` (or its cause) happened."""
    seen: BaseException | None = exc
    while seen is not None:
        text = str(seen)
        if "Conflicting lock is held in" in text:
            return text.split("Conflicting lock is held in", 1)[1].strip().splitlines()[0].rstrip(".")
        seen = seen.__cause__ or seen.__context__
    return None


def raise_if_busy(exc: BaseException, command: str) -> None:
    """Raise WarehouseBusy when `exc` came from another process opening the DuckDB file mid-run."""
    holder = lock_holder(exc)
    if holder is not None:
        raise WarehouseBusy(
            f"the database was opened by another process ({holder}) while {command} was writing to it. "
            f"Nothing is lost: close that connection and rerun {command} to finish"
        ) from None


@dataclass
class Warehouse:
    """A settled pipeline, held by this process until `writing()` exits."""

    pipeline: Pipeline
    resumed: list[str] = field(default_factory=list)  # what was done about an interrupted run

    def journal(self, command: str, load_id: str | None, imports: Sequence[ImportKey] = ()) -> None:
        """Record the load about to start, with the follow-up it needs, for a run that resumes it."""
        entry = {"command": command, "load_id": load_id, "imports": [list(i) for i in imports]}
        target = Path(self.pipeline.working_dir) / JOURNAL
        temporary = target.with_suffix(".tmp")
        temporary.write_text(json.dumps(entry), encoding="utf-8")
        os.replace(temporary, target)

    def close_journal(self) -> None:
        """The journaled load and its follow-up are done."""
        with suppress(FileNotFoundError):
            (Path(self.pipeline.working_dir) / JOURNAL).unlink()

    def load(
        self, command: str, data: Any, stop: InterruptHandler, imports: Sequence[ImportKey] = ()
    ) -> LoadInfo:
        """Extract `data` (stopped at once by a signal: nothing is written yet), normalize and load it,
        journaled before the extract and again once its package exists. Raises PipelineStepFailed."""
        self.journal(command, None, imports)  # in case it is killed as its package commits
        with stop.immediate():
            extracted = self.pipeline.extract(data)
        self.journal(command, extracted.loads_ids[-1], imports)
        stop.check()
        self.pipeline.normalize()
        return self.pipeline.load()

    def check_layout(self) -> None:
        """Raise WarehouseError when the database's layout forbids the views (before any work)."""
        try:
            with self.pipeline.sql_client() as client:
                check_layout(client)
        except LayoutError as exc:
            raise WarehouseError(str(exc)) from None

    def publish(self) -> None:
        """(Re)create the `mailjet` views. Raises WarehouseError when the database's layout forbids."""
        try:
            with self.pipeline.sql_client() as client:
                publish_views(client)
        except LayoutError as exc:
            raise WarehouseError(str(exc)) from None


@contextmanager
def writing(
    db: str,
    destination: str | None,
    command: str,
    dataset: str = API_DATASET,
    wait_seconds: float = DEFAULT_LOCK_WAIT_SECONDS,
    on_wait: Callable[[str], None] | None = None,
    interrupts: InterruptHandler | None = None,
    loads: bool = True,
) -> Iterator[Warehouse]:
    """The pipeline of `dataset`, for one loading command at a time. Raises WarehouseError (bad --db or
    destination, a database of an earlier layout), WarehouseBusy (held by another process) or
    ResumeFailed. Waiting for the lock can be interrupted at once; once it is held, signals are
    `deferred` to the command's safe points. The views are published once the command's work is done
    (or has failed, after loading part of it); for a command that `loads` nothing, only when an
    interrupted run was resumed."""
    tell = on_wait or (lambda text: None)
    folder = pipelines_dir(db, destination)
    if folder is not None:
        check_existing_duckdb(duckdb_path(db), db)  # before anything is created beside it
    lock_folder = folder if folder is not None else Path(get_dlt_pipelines_dir())
    lock = WriterLock(
        lock_folder / f"{LOCK_NAME}.lock",
        command,
        wait_seconds,
        lambda holder: tell(f"the database is in use by {holder}; waiting up to {wait_seconds:g} s"),
    )
    try:
        try:
            lock.acquire()
        except LockUnavailable as exc:
            raise WarehouseError(f"--db {db}: {exc}; choose a writable location") from None
        except LockTimeout as exc:
            raise WarehouseBusy(str(exc)) from None
        if folder is not None:
            probe_duckdb(duckdb_path(db), db, wait_seconds, tell)
        stop = interrupts or InterruptHandler("")
        with stop.deferred():
            resumed: list[str] = []
            pipelines = {name: open_pipeline(db, destination, name) for name in LAYERS}
            for name in LAYERS:
                resumed += resume(pipelines[name])
            warehouse = Warehouse(pipelines[dataset], resumed)
            warehouse.check_layout()
            if resumed and not loads:
                warehouse.publish()  # before the command reads the views
            try:
                yield warehouse
            except BaseException:
                # A command that failed or was stopped after loading part of its data: the views follow
                # what did land. Best effort: the command's own error is what the user must see.
                if loads:
                    with suppress(Exception):
                        warehouse.publish()
                raise
            if loads:
                warehouse.publish()
    except (DestinationConnectionError, DatabaseException) as exc:
        raise_if_busy(exc, f"`{command}`")
        raise
    finally:
        lock.release()


def resume(pipeline: Pipeline) -> list[str]:
    """Finish what an interrupted run left: load its pending packages (dlt keeps them, with the state
    they carry, until they are loaded), then its journaled follow-up. Returns what was done, for the
    user. Leftover folders of an extract that never committed are removed (they hold nothing loadable)."""
    notes: list[str] = []
    working = Path(pipeline.working_dir)
    journal_path = working / JOURNAL
    entry: dict[str, object] = {}
    with suppress(FileNotFoundError, ValueError):
        loaded = json.loads(journal_path.read_text(encoding="utf-8"))
        entry = loaded if isinstance(loaded, dict) else {}
    what = f"`{entry['command']}`" if "command" in entry else "an earlier run"
    shutil.rmtree(working / CSV_STAGING_FOLDER, ignore_errors=True)  # a killed import's staging database
    normalize_dir = working / "normalize"
    if normalize_dir.is_dir():
        for child in normalize_dir.iterdir():
            if child.is_dir() and child.name != "extracted":
                shutil.rmtree(child, ignore_errors=True)
    # A run killed while dlt moved a package from `extracted` to `normalized` (or after the load, before
    # the extracted copy went) leaves it twice; normalizing the copy again would fail forever.
    normalized = set(pipeline.list_normalized_load_packages())
    for load_id in pipeline.list_extracted_load_packages():
        if load_id in normalized or _loaded(pipeline, load_id):
            shutil.rmtree(normalize_dir / "extracted" / load_id, ignore_errors=True)
    if pipeline.has_pending_data:
        extracted = pipeline.list_extracted_load_packages()
        packages = len(extracted) + len(pipeline.list_normalized_load_packages())
        try:
            if extracted:
                pipeline.normalize()
            pipeline.load()
        except PipelineStepFailed as exc:
            reraise_if_interrupted(exc)
            raise_if_busy(exc, "the command")
            raise ResumeFailed(
                f"{what} was interrupted and what it had read cannot be loaded ({exc.step}: "
                f"{exc.exception}). Fix the cause and run again; to give that data up instead, run "
                f"`dlt pipeline --pipelines-dir {pipeline.pipelines_dir} {pipeline.pipeline_name} "
                "abort-packages` (an extract reads that data again; an import must be run again)"
            ) from None
        notes.append(
            f"resumed: {what} was interrupted; completed its load ({packages} package"
            f"{'' if packages == 1 else 's'}) before this run"
        )
    if entry:
        # What the interrupted command had left to do after its load, whichever command resumes it.
        imports: list[ImportKey] = [
            (str(f), None if ref is None else str(ref), str(at))
            for f, ref, at in entry.get("imports") or []  # type: ignore[attr-defined]
        ]
        finished = finish_interrupted_import(pipeline, imports) if entry.get("command") == "import-csv" else 0
        package = entry.get("load_id")
        if not notes and (finished or (isinstance(package, str) and _loaded(pipeline, package))):
            notes.append(f"resumed: {what} was interrupted after its load; finished its last steps")
        journal_path.unlink(missing_ok=True)
    return notes


def _loaded(pipeline: Pipeline, load_id: str) -> bool:
    """Whether the package `load_id` reached the destination (a destination without SQL keeps no record:
    a package still in the pipeline's folders has not been loaded, or is loaded again harmlessly)."""
    try:
        opened = pipeline.sql_client()
    except SqlClientNotAvailable:
        return False
    with opened as client:
        table = client.make_qualified_table_name("_dlt_loads")
        try:
            rows = client.execute_sql(f"select count(*) from {table} where load_id = %s", load_id)
        except DatabaseUndefinedRelation:
            return False
    return bool(rows and rows[0][0])
