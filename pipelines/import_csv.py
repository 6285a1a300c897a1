"""`mailjet-elt import-csv`: contact exports from Mailjet's web app -> the `mailjet_csv` dataset, seen
with the extract's rows through the `mailjet` views. An import reads nothing from the warehouse to make
its rows: they depend on the file and `--list` alone."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from dlt.destinations.exceptions import DatabaseUndefinedRelation
from dlt.pipeline.exceptions import PipelineStepFailed
from dlt.pipeline.pipeline import Pipeline

from pipelines.errors import EXIT_FAILURE, EXIT_USAGE, CommandError
from pipelines.interrupts import InterruptHandler, reraise_if_interrupted
from pipelines.logs import FIGURES, console
from pipelines.settings import CSV_STAGING_FOLDER, DEFAULT_LOCK_WAIT_SECONDS
from pipelines.warehouse import Warehouse, raise_if_busy
from pipelines.warehouse.datasets import API_DATASET, CSV_DATASET, VIEWS_DATASET
from pipelines.warehouse.superseded import remove_superseded
from pipelines.warehouse.writing import writing
from sources.mailjet_csv import ImportRecord, StagedFile, TargetList, mailjet_csv_source
from sources.mailjet_csv import settings as csv_settings
from sources.mailjet_csv.dialect import Dialect, sniff
from sources.mailjet_csv.exceptions import CsvFileError
from sources.mailjet_csv.reader import stage

log = logging.getLogger(__name__)


class Phases:
    """Seconds spent in each phase of an import, all files together, logged at the end (`-v`)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - began)

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def log(self) -> None:
        figures = {name: round(seconds, 3) for name, seconds in self.seconds.items()}
        text = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.seconds.items())
        log.info(f"import-csv phases: {text}", extra={FIGURES: {"phases": figures}})


@dataclass(frozen=True)
class FileImport:
    """What the import of one file did."""

    file: str
    encoding: str  # how the file was read, e.g. "UTF-8 (with byte-order mark)"
    delimiter: str  # "comma", "semicolon", ...
    rows_read: int
    seconds: float
    contacts: int
    property_values: int
    list_name: str | None  # the --list the contacts became members of
    rejected: int
    malformed: int  # field count, encoding or quoting
    invalid: int
    duplicates: int
    ignored_status_columns: list[str] = field(default_factory=list)  # without --list
    padded_rows: int = 0


@dataclass(frozen=True)
class ImportResult:
    """What an import of one or more files did."""

    files: list[FileImport]
    database: str | None  # the DuckDB file, when the destination is DuckDB
    notes: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        """Rows rejected, all files together."""
        return sum(f.rejected for f in self.files)


def describe_list(pipeline: Pipeline, target: TargetList) -> str | None:
    """After the load: a note when `--list` matches none of Mailjet's lists (by ID, else by name), so the
    memberships stand under the file's own list until an extract brings one."""
    with pipeline.sql_client() as client:
        try:
            rows = client.execute_sql(
                f"select count(*) from {API_DATASET}.contact_lists where id = %s or lower(name) = lower(%s)",
                target.id if target.name is None else 0,
                target.ref,
            )
        except DatabaseUndefinedRelation:
            rows = [(0,)]
    if rows and rows[0][0]:
        return None
    if target.name is None:
        return (
            f"list {target.ref} is not in {VIEWS_DATASET}.contact_lists yet; memberships are recorded under "
            f"ID {target.ref} (run `extract` to bring its name)"
        )
    return (
        f"list {target.ref!r} is not in {VIEWS_DATASET}.contact_lists: created here with ID {target.id}; it "
        "becomes the Mailjet list of the same name once `extract` brings that list"
    )


def _progress(name: str, rows: int, done: int, size: int) -> None:
    share = f" ({100 * done / size:.0f} % of {size / 1e6:,.1f} MB)" if size else ""
    console().info(f"  {name}: {rows:,} rows read{share}")


def import_csv(
    *,
    db: str,
    files: Sequence[str],
    destination: str | None = None,
    list_ref: str | None = None,
    encoding: str | None = None,
    progress: bool = True,
    pad_short_rows: bool = False,
    interrupts: InterruptHandler | None = None,
    lock_wait: float = DEFAULT_LOCK_WAIT_SECONDS,
) -> ImportResult:
    """Import the files in the order given (a later file's values replace an earlier one's); returns
    what it did, or raises CommandError. Every file is checked before anything is loaded."""
    paths = [Path(f) for f in files]
    phases = Phases()
    try:
        with phases.timed("sniff"):
            dialects: list[Dialect] = [sniff(p, encoding) for p in paths]
    except CsvFileError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    try:
        target = TargetList.parse(list_ref) if list_ref is not None else None
    except ValueError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    names = [p.name for p in paths]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise CommandError(
            f"two files named {repeated[0]}: rows are tagged with their file's name (_source = "
            f"'csv:{repeated[0]}'), so rename one of them",
            EXIT_USAGE,
        )
    stop = interrupts or InterruptHandler("import-csv")
    with writing(db, destination, "import-csv", CSV_DATASET, lock_wait, _say, interrupts=stop) as warehouse:
        files_done = _import_files(warehouse, paths, dialects, target, progress, pad_short_rows, stop, phases)
        warehouse.summary = "; ".join(
            f"{Path(f.file).name}: {f.rows_read:,} rows, {f.rejected:,} rejected" for f in files_done
        )
        resumed = warehouse.resumed
        note = describe_list(warehouse.pipeline, target) if target is not None else None
        published = time.perf_counter()
    phases.add("publish views", time.perf_counter() - published)
    phases.log()
    database = db if destination in (None, "duckdb") else None
    return ImportResult(files_done, database, [note] if note else [], resumed)


def _import_files(
    warehouse: Warehouse,
    paths: Sequence[Path],
    dialects: Sequence[Dialect],
    target: TargetList | None,
    progress: bool,
    pad_short_rows: bool,
    stop: InterruptHandler,
    phases: Phases,
) -> list[FileImport]:
    """Import the files one by one; what each import did."""
    pipeline = warehouse.pipeline
    done: list[FileImport] = []
    # Under the writer lock, so a folder left by a killed import is always ours to replace.
    staging = Path(pipeline.working_dir) / CSV_STAGING_FOLDER
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        con = duckdb.connect(
            str(staging / "staging.duckdb"),
            config={
                "memory_limit": csv_settings.STAGING_MEMORY_LIMIT,
                "preserve_insertion_order": False,
                "temp_directory": str(staging),
            },
        )
        try:
            for path, dialect in zip(paths, dialects, strict=True):
                stop.check()
                done.append(
                    _import_file(
                        con, warehouse, path, dialect, target, progress, pad_short_rows, stop, phases
                    )
                )
        finally:
            con.close()
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return done


def _say(text: str) -> None:
    console().warning(f"mailjet-elt import-csv: {text}")


def _import_file(
    con: duckdb.DuckDBPyConnection,
    warehouse: Warehouse,
    path: Path,
    dialect: Dialect,
    target: TargetList | None,
    progress: bool,
    pad_short_rows: bool,
    stop: InterruptHandler,
    phases: Phases,
) -> FileImport:
    """Import one file; what it did."""
    pipeline = warehouse.pipeline
    started = time.monotonic()
    imported_at = datetime.now(UTC)
    try:
        with stop.immediate():  # the staging database is disposable: stop at once
            with phases.timed("parse/stage"):
                parsed = stage(con, path, dialect, "staged", _progress if progress else None, pad_short_rows)
            with phases.timed("checks"):
                staged = StagedFile(con, "staged", path.name, dialect, parsed, target, imported_at)
                counts = staged.counts()
    except (UnicodeError, LookupError) as exc:
        raise CommandError(
            f"{path}: cannot be read as {dialect.encoding} ({exc}); pass --encoding with the file's encoding",
            EXIT_USAGE,
        ) from None
    except duckdb.Error as exc:
        raise CommandError(
            f"{path}: staging the rows failed ({exc}); nothing of this file was loaded", EXIT_FAILURE
        ) from None
    if progress:
        console().info(f"  {path.name}: loading {counts.contacts:,} contacts and their properties")
    journaled = [(path.name, target.ref if target else None, imported_at.isoformat())]
    record = ImportRecord(
        encoding=dialect.encoding_note,
        delimiter=dialect.delimiter_name,
        rows_read=parsed.rows + len(parsed.rejected),
        contacts=counts.contacts,
        rejected=counts.rejected,
    )
    try:
        with phases.timed("load"):
            warehouse.load("import-csv", mailjet_csv_source(staged, record), stop, journaled)
    except PipelineStepFailed as exc:
        reraise_if_interrupted(exc)
        raise_if_busy(exc, "`import-csv`")
        raise CommandError(
            f"{path}: loading failed ({exc.step}: {exc.exception}); nothing of this file is reported done, "
            "import it again (it replaces whatever of this import landed)",
            EXIT_FAILURE,
        ) from None
    trace = pipeline.last_trace
    normalized = trace.last_normalize_info if trace is not None else None
    loaded = dict(normalized.row_counts) if normalized is not None else {}
    for step in trace.steps if trace is not None else []:
        if step.step in ("extract", "normalize", "load") and step.finished_at is not None:
            phases.add(f"load: {step.step}", (step.finished_at - step.started_at).total_seconds())
    with phases.timed("remove superseded"):
        remove_superseded(pipeline, path.name, target.ref if target else None, imported_at)
    warehouse.close_journal()
    seconds = time.monotonic() - started
    statuses = staged.columns.statuses if target is None else []
    return FileImport(
        file=path.name,
        encoding=dialect.encoding_note,
        delimiter=dialect.delimiter_name,
        rows_read=parsed.rows + len(parsed.rejected),
        seconds=seconds,
        contacts=counts.contacts,
        property_values=loaded.get("contact_properties", 0),
        list_name=target.ref if target else None,
        rejected=counts.rejected,
        malformed=len(parsed.rejected),
        invalid=counts.rejected - counts.duplicates - len(parsed.rejected),
        duplicates=counts.duplicates,
        ignored_status_columns=[dialect.header[i].strip() for i, _ in statuses],
        padded_rows=parsed.padded,
    )
