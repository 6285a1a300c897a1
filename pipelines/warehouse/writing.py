"""`writing()`: one loading command at a time. It takes the one-writer lock (and, on a server that has
one, the lock in the warehouse), makes sure the DuckDB file can be written, takes the state of a pipeline
that has none locally from the warehouse, and first finishes whatever an interrupted run of any layer left
behind, so that the command's own work always starts from a settled database; the views are (re)created
then, and again after the command's load when they read what it loaded."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlt.common.pipeline import LoadInfo
from dlt.destinations.exceptions import (
    DatabaseException,
    DestinationConnectionError,
)
from dlt.pipeline.pipeline import Pipeline

from pipelines import phases
from pipelines.interrupts import InterruptHandler
from pipelines.settings import DEFAULT_LOCK_WAIT_SECONDS
from pipelines.warehouse import command_log
from pipelines.warehouse.database import lean_duckdb, open_pipeline, restore_state
from pipelines.warehouse.datasets import (
    API_DATASET,
    LAYER_DATASETS,
    LAYERS,
    MODELS_DATASET,
    VIEWS_DATASET,
)
from pipelines.warehouse.errors import WarehouseBusy, WarehouseError, raise_if_busy
from pipelines.warehouse.kept import KeptOpen
from pipelines.warehouse.lease_lock import (
    DEFAULT_LEASE_SECONDS,
    MAX_LEASE_SECONDS,
    MIN_LEASE_SECONDS,
    LeaseLock,
    LeaseLost,
    LeaseNotFreed,
)
from pipelines.warehouse.lock import LockTimeout, LockUnavailable, WriterLock
from pipelines.warehouse.paths import check_existing_duckdb, duckdb_path, is_duckdb_file, pipelines_dir
from pipelines.warehouse.publish import (
    LayoutError,
    check_layout,
    model_names,
    publish_views,
    relations,
    view_names,
)
from pipelines.warehouse.resume import JOURNAL, resume, settled
from pipelines.warehouse.server_lock import ServerLock, writer_lock_kind
from pipelines.warehouse.superseded import ImportKey

LOCK_NAME = "mailjet_elt"  # the writer lock's file is `<pipelines folder>/mailjet_elt.lock`
# In the pipelines folder from the start of a load of Mailjet's data until the views follow it: a command
# stopped in between (its load done, its publishing not) leaves it, and the next command publishes first.
VIEWS_PENDING = "views_pending"


@dataclass
class Warehouse:
    """A settled pipeline, held by this process until `writing()` exits."""

    pipeline: Pipeline
    resumed: list[str] = field(default_factory=list)  # what was done about an interrupted run
    kept: KeptOpen | None = None  # the DuckDB file, kept open while the command works in it
    views_pending: Path | None = None  # the VIEWS_PENDING mark of this database
    summary: str | None = None  # what the command did, in a line, for its row of command_runs

    @contextmanager
    def released(self, command: str) -> Iterator[None]:
        """The DuckDB file let go for the block (reading Mailjet or a file), kept again after it."""
        if self.kept is None:
            yield
            return
        with self.kept.released(command):
            yield

    def let_go(self) -> None:
        """The DuckDB file let go for the rest of the command (it sends to Mailjet and waits for it)."""
        if self.kept is not None:
            self.kept.close()

    def journal(
        self,
        command: str,
        load_id: str | None,
        imports: Sequence[ImportKey] = (),
        target: Mapping[str, object] | None = None,
    ) -> None:
        """Record the load about to start, with the follow-up it needs, for a run that resumes it
        (`imports` of `import-csv`; the `target` table of `load`)."""
        entry = {
            "command": command,
            "load_id": load_id,
            "imports": [list(i) for i in imports],
            **({"target": dict(target)} if target else {}),
        }
        path = Path(self.pipeline.working_dir) / JOURNAL
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(entry), encoding="utf-8")
        os.replace(temporary, path)

    def close_journal(self) -> None:
        """The journaled load and its follow-up are done."""
        with suppress(FileNotFoundError):
            (Path(self.pipeline.working_dir) / JOURNAL).unlink()

    def load(
        self,
        command: str,
        data: Any,
        stop: InterruptHandler,
        imports: Sequence[ImportKey] = (),
        target: Mapping[str, object] | None = None,
        lean: bool = False,
    ) -> LoadInfo:
        """Extract `data` (stopped at once by a signal: nothing is written yet), normalize and load it,
        journaled before the extract and again once its package exists. Raises PipelineStepFailed.
        `lean`: its files loaded one at a time, into a DuckDB held to LEAN_LOAD (memory flat as the
        account grows)."""
        self.journal(command, None, imports, target)  # in case it is killed as its package commits
        phases.mark("start-up")
        with self.released(command), stop.immediate():
            extracted = self.pipeline.extract(data)
        phases.mark("fetch")
        self.journal(command, extracted.loads_ids[-1], imports, target)
        stop.check()
        self.pipeline.normalize()
        phases.mark("normalize")
        if not lean:
            info = self.pipeline.load()
        else:
            with lean_duckdb(self.pipeline):
                info = self.pipeline.load(workers=1)
        phases.mark("load")
        return info

    def publishes_after(self, dataset: str) -> bool:
        """Whether the views follow the command's load of `dataset`: they read it (the API's layer or the
        files'), a resumed run loaded another layer, or they (or the models) are not all there yet. A load of
        the CRM's tables alone changes nothing they read (recomputing `mailjet_matched` took a second on
        Postgres at 100,000 contacts)."""
        if dataset in LAYER_DATASETS.values() or self.resumed or self.publish_pending:
            return True
        with self.pipeline.sql_client() as client:
            return not (
                set(view_names()) <= relations(client, VIEWS_DATASET)
                and set(model_names()) <= relations(client, MODELS_DATASET)
            )

    @property
    def publish_pending(self) -> bool:
        """Whether a command stopped after loading Mailjet's data and before the views followed it."""
        return self.views_pending is not None and self.views_pending.exists()

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
        if self.views_pending is not None:
            self.views_pending.unlink(missing_ok=True)


@contextmanager
def holding(
    db: str,
    destination: str | None,
    command: str,
    wait_seconds: float = DEFAULT_LOCK_WAIT_SECONDS,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[WriterLock]:
    """The one-writer lock of the database, held until the block exits: for a command made of several
    loading steps (`run`), which pass it to `writing()` so that no other writer gets in between them. The
    file lock in the database's working folder, then, on a server that has one, the lock in the warehouse,
    which writers on other machines share. Raises WarehouseError (a lock that cannot be created) or
    WarehouseBusy (held by another process)."""
    tell = on_wait or (lambda text: None)
    if is_duckdb_file(destination):
        check_existing_duckdb(duckdb_path(db), db)  # before anything is created beside it
    lock = WriterLock(
        pipelines_dir(db, destination) / f"{LOCK_NAME}.lock",
        command,
        wait_seconds,
        _waiting(tell, wait_seconds),
    )
    try:
        lock.acquire()
    except LockUnavailable as exc:
        raise WarehouseError(f"--db {db}: {exc}; choose a writable location") from None
    except LockTimeout as exc:
        raise WarehouseBusy(str(exc)) from None
    try:
        with _in_the_server(db, destination, command, wait_seconds, tell):
            yield lock
    finally:
        lock.release()


def _waiting(tell: Callable[[str], None], wait_seconds: float) -> Callable[[str], None]:
    """What a lock tells once it finds another writer holding it (the file lock's and the warehouse's)."""
    return lambda holder: tell(f"the database is in use by {holder}; waiting up to {wait_seconds:g} s")


@contextmanager
def _in_the_server(
    db: str, destination: str | None, command: str, wait_seconds: float, tell: Callable[[str], None]
) -> Iterator[None]:
    """The writer lock in the warehouse itself, held until the block exits: writers on other machines,
    with folders of their own, wait for it. PostgreSQL's advisory lock (server_lock.py), or a leased row
    where the engine lends no lock (lease_lock.py); `[warehouse] writer_lock` chooses."""
    if is_duckdb_file(destination):
        yield
        return
    pipeline = open_pipeline(db, destination, API_DATASET, wait_seconds)
    dialect = pipeline.destination.capabilities().sqlglot_dialect or ""
    lock = _server_lock(dialect, pipeline.sql_client(), command, wait_seconds, _waiting(tell, wait_seconds))
    try:
        lock.acquire()
    except LockTimeout as exc:
        raise WarehouseBusy(str(exc)) from None
    failed = True
    try:
        yield
        failed = False
    finally:
        try:
            lock.release()
        except LeaseNotFreed as exc:
            tell(str(exc))  # the command's outcome stands; the lease runs out by itself
        except LeaseLost as exc:
            if failed:
                tell(str(exc))  # the command's own error is the one it exits with
            else:
                raise WarehouseBusy(str(exc)) from None


def _server_lock(
    dialect: str, client: Any, command: str, wait_seconds: float, on_wait: Callable[[str], None]
) -> ServerLock | LeaseLock:
    """The warehouse's writer lock as `[warehouse]` configures it (`writer_lock`, `lease_seconds`)."""
    import dlt

    configured = dlt.config.get("warehouse.writer_lock", str)
    try:
        kind = writer_lock_kind(dialect, configured)
    except ValueError as exc:
        raise WarehouseError(str(exc)) from None
    if kind == "advisory":
        return ServerLock(client, command, wait_seconds, on_wait)
    try:
        lease = dlt.config.get("warehouse.lease_seconds", float)
    except Exception:  # noqa: BLE001 - dlt's coercion error names no fix
        lease = float("nan")
    if lease is not None and not MIN_LEASE_SECONDS <= lease <= MAX_LEASE_SECONDS:
        given: object = dlt.config.get("warehouse.lease_seconds")
        raise WarehouseError(
            f"[warehouse] lease_seconds = {given}: it must be a number of seconds from "
            f"{MIN_LEASE_SECONDS:g} to {MAX_LEASE_SECONDS:g} (the default: {DEFAULT_LEASE_SECONDS:g})"
        )
    return LeaseLock(client, command, wait_seconds, on_wait, lease or DEFAULT_LEASE_SECONDS)


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
    held: WriterLock | None = None,
) -> Iterator[Warehouse]:
    """The pipeline of `dataset`, for one loading command at a time. Raises WarehouseError (bad --db or
    destination, a database of an earlier layout), WarehouseBusy (held by another process) or
    ResumeFailed. Waiting for the lock can be interrupted at once; once it is held, signals are
    `deferred` to the command's safe points. The views are published once the command's work is done
    (or has failed, after loading part of it); for a command that `loads` nothing, only when an
    interrupted run was resumed. `held`: the lock, taken already by the caller with `holding()`."""
    with ExitStack() as stack:
        if held is None:
            stack.enter_context(holding(db, destination, command, wait_seconds, on_wait))
        tell = on_wait or (lambda text: None)
        with _settled(db, destination, command, dataset, wait_seconds, tell, interrupts, loads) as warehouse:
            yield warehouse


@contextmanager
def _settled(
    db: str,
    destination: str | None,
    command: str,
    dataset: str,
    wait_seconds: float,
    tell: Callable[[str], None],
    interrupts: InterruptHandler | None,
    loads: bool,
) -> Iterator[Warehouse]:
    """The pipeline of `dataset`, the lock held, once what an interrupted run left behind is finished. The
    DuckDB file is opened first, so that a file that is not a database, a folder that cannot be written or
    a reader holding the file is reported before any work starts, and kept open till the block exits."""
    kept = None
    if is_duckdb_file(destination):
        kept = KeptOpen(duckdb_path(db), db, wait_seconds, tell)
    try:
        if kept is not None:
            kept.open()
        stop = interrupts or InterruptHandler("")
        with stop.deferred():
            resumed: list[str] = []
            # The command's own layer, and each other layer that has anything to finish or restore.
            folder = pipelines_dir(db, destination)
            opened = [name for name in LAYERS if name == dataset or not settled(folder / name)]
            pipelines = {name: open_pipeline(db, destination, name, wait_seconds) for name in opened}
            for name in opened:
                restore_state(pipelines[name], remember_none=kept is not None)
                resumed += resume(pipelines[name])
            warehouse = Warehouse(pipelines[dataset], resumed, kept, folder / VIEWS_PENDING)
            warehouse.check_layout()
            if (resumed or warehouse.publish_pending) and not loads:
                warehouse.publish()  # before the command reads the views
            if loads and dataset in LAYER_DATASETS.values():
                (folder / VIEWS_PENDING).write_text(f"{command}\n", encoding="utf-8")
            record = _recorded(warehouse, command)
            try:
                yield warehouse
                if loads and warehouse.publishes_after(dataset):
                    warehouse.publish()
            except BaseException as exc:
                # A command that failed or was stopped after loading part of its data: the views follow
                # what did land. Best effort: the command's own error is what the user must see.
                if loads:
                    with suppress(Exception):
                        if warehouse.publishes_after(dataset):
                            warehouse.publish()
                _close_record(warehouse, record, *command_log.ending(exc))
                raise
            _close_record(warehouse, record, "ok", None)
    except (DestinationConnectionError, DatabaseException) as exc:
        raise_if_busy(exc, f"`{command}`")
        raise
    finally:
        if kept is not None:
            kept.close()


def _recorded(warehouse: Warehouse, command: str) -> int | None:
    """The command's row in command_runs, written as it starts; None for a command not recorded there, or
    when the row could not be written (the command's work matters more than its record)."""
    if command not in command_log.RECORDED:
        return None
    try:
        with warehouse.pipeline.sql_client() as client:
            return command_log.begin(client, command)
    except Exception:  # noqa: BLE001 - best effort, see above
        return None


def _close_record(
    warehouse: Warehouse, run_id: int | None, status: command_log.Ended, error: str | None
) -> None:
    """Close the command's row (best effort: a failing database must not hide the command's own error)."""
    if run_id is None:
        return
    with suppress(Exception), warehouse.pipeline.sql_client() as client:
        command_log.end(client, run_id, status, warehouse.summary, error)
