"""`mailjet-elt import-csv`: contact exports from Mailjet's web app -> the same tables as the extract."""

from __future__ import annotations

import contextlib
import shutil
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from dlt.destinations.exceptions import (
    DatabaseUndefinedRelation,
)
from dlt.pipeline.exceptions import PipelineStepFailed
from dlt.pipeline.pipeline import Pipeline

from pipelines.errors import EXIT_FAILURE, EXIT_USAGE, CommandError
from pipelines.identity import merge_identities
from pipelines.interrupts import InterruptHandler, reraise_if_interrupted
from pipelines.logs import console
from pipelines.rejections import remove_old_rejections
from pipelines.settings import CSV_STAGING_FOLDER, DEFAULT_LOCK_WAIT_SECONDS
from pipelines.warehouse import (
    ResumeFailed,
    Warehouse,
    WarehouseBusy,
    WarehouseError,
    raise_if_busy,
    writing,
)
from sources.mailjet_csv import StagedFile, TargetList, mailjet_csv_source
from sources.mailjet_csv import settings as csv_settings
from sources.mailjet_csv.dialect import Dialect, sniff
from sources.mailjet_csv.exceptions import CsvFileError
from sources.mailjet_csv.reader import stage
from sources.mailjet_csv.rows import PRIOR_MEMBERSHIPS, PRIOR_NAMES, create_prior_tables, synthetic_id

MAX_ID = 2**63 - 1  # IDs are BIGINT


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
    merged_contacts: int  # contacts matched with Mailjet's by email
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


def resolve_list(pipeline: Pipeline, ref: str) -> tuple[TargetList, str | None]:
    """The list `--list` names, by ID or else by name (case-insensitive; live lists first), among the
    lists in the database; a list not there is created locally. Returns it with a note for the user."""
    ref = ref.strip()
    if not ref:
        raise CommandError("--list needs a list name or ID", EXIT_USAGE)
    numeric = ref.isascii() and ref.isdigit() and int(ref) <= MAX_ID
    rows: Sequence[Sequence[Any]] = []
    with pipeline.sql_client() as client:
        table = client.make_qualified_table_name("contact_lists")
        with contextlib.suppress(DatabaseUndefinedRelation):  # no list was ever loaded
            if numeric:
                rows = client.execute_sql(f"select id, name from {table} where id = %s", int(ref)) or []
            if not rows:
                rows = (
                    client.execute_sql(
                        f"select id, name from {table} where lower(name) = lower(%s) "
                        "order by coalesce(is_deleted, false), id < 0, id",
                        ref,
                    )
                    or []
                )
    if rows:
        return TargetList(int(rows[0][0]), rows[0][1], False), None
    if numeric:
        note = (
            f"list {ref} is not in mailjet.contact_lists yet; memberships are recorded under ID {ref} "
            "(run `extract` to bring its name)"
        )
        return TargetList(int(ref), None, True), note
    target = TargetList(synthetic_id("list:" + ref.lower()), ref, True)
    note = (
        f"list {ref!r} is not in mailjet.contact_lists: created here with ID {target.id}; it becomes "
        "the Mailjet list of the same name once `extract` brings that list"
    )
    return target, note


def _progress(name: str, rows: int, done: int, size: int) -> None:
    share = f" ({100 * done / size:.0f} % of {size / 1e6:,.1f} MB)" if size else ""
    console().info(f"  {name}: {rows:,} rows read{share}")


def load_prior_state(pipeline: Pipeline, con: duckdb.DuckDBPyConnection, target: TargetList | None) -> None:
    """Copy into the staging database what earlier imports set and a new file may leave unsaid: names of
    contacts known only from files, and the subscription state of the target list's file memberships."""
    queries = {
        PRIOR_NAMES: ("contacts", "select id, name from {table} where id < 0 and name is not null"),
        PRIOR_MEMBERSHIPS: (
            "list_recipients",
            "select id, is_unsubscribed from {table} where id < 0 and list_id = %s" if target else "",
        ),
    }
    create_prior_tables(con)
    with pipeline.sql_client() as client, warnings.catch_warnings():
        # DuckDB notes that dlt's cursor copies Arrow batches once more: harmless, not the user's concern.
        warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")
        for staging, (table, sql) in queries.items():
            if not sql:
                continue
            args = (target.id,) if target and staging == PRIOR_MEMBERSHIPS else ()
            query = sql.format(table=client.make_qualified_table_name(table))
            # No such table yet: nothing was imported before.
            with contextlib.suppress(DatabaseUndefinedRelation), client.execute_query(query, *args) as cur:
                for chunk in cur.iter_arrow(chunk_size=100_000):
                    con.register("prior_batch", chunk)
                    con.execute(f"insert into {staging} select * from prior_batch")
                    con.unregister("prior_batch")


def import_csv(
    db: str,
    destination: str | None,
    files: Sequence[str],
    list_ref: str | None,
    encoding: str | None = None,
    progress: bool = True,
    pad_short_rows: bool = False,
    interrupts: InterruptHandler | None = None,
    lock_wait: float = DEFAULT_LOCK_WAIT_SECONDS,
) -> ImportResult:
    """Import the files in the order given (a later file's values replace an earlier one's); returns
    what it did, or raises CommandError. Every file is checked before anything is loaded."""
    paths = [Path(f) for f in files]
    try:
        dialects: list[Dialect] = [sniff(p, encoding) for p in paths]
    except CsvFileError as exc:
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
    try:
        with writing(db, destination, "import-csv", lock_wait, _say, interrupts=stop) as warehouse:
            notes: list[str] = []
            files_done = _import_files(
                warehouse, paths, dialects, list_ref, progress, pad_short_rows, stop, notes
            )
            resumed = warehouse.resumed
    except WarehouseError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    except (WarehouseBusy, ResumeFailed) as exc:
        raise CommandError(str(exc), EXIT_FAILURE) from None
    database = db if destination in (None, "duckdb") else None
    return ImportResult(files_done, database, notes, resumed)


def _import_files(
    warehouse: Warehouse,
    paths: Sequence[Path],
    dialects: Sequence[Dialect],
    list_ref: str | None,
    progress: bool,
    pad_short_rows: bool,
    stop: InterruptHandler,
    notes: list[str],
) -> list[FileImport]:
    """Import the files one by one; what each import did (notes for the user go to `notes`)."""
    pipeline = warehouse.pipeline
    target, note = resolve_list(pipeline, list_ref) if list_ref else (None, None)
    if note:
        notes.append(note)
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
                    _import_file(con, warehouse, path, dialect, target, progress, pad_short_rows, stop)
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
) -> FileImport:
    """Import one file; what it did."""
    pipeline = warehouse.pipeline
    started = time.monotonic()
    imported_at = datetime.now(UTC)
    try:
        with stop.immediate():  # the staging database is disposable: stop at once
            load_prior_state(pipeline, con, target)
            parsed = stage(con, path, dialect, "staged", _progress if progress else None, pad_short_rows)
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
    journaled = [(path.name, imported_at.isoformat())]
    warehouse.journal("import-csv", None, journaled)  # in case it is killed as its package commits
    try:
        with stop.immediate():
            extracted = pipeline.extract(mailjet_csv_source(staged))
        warehouse.journal("import-csv", extracted.loads_ids[-1], journaled)
        stop.check()
        pipeline.normalize()
        pipeline.load()
    except PipelineStepFailed as exc:
        reraise_if_interrupted(exc)
        raise_if_busy(exc, "`import-csv`")
        raise CommandError(
            f"{path}: loading failed ({exc.step}: {exc.exception}); nothing of this file is reported done, "
            "import it again (rows already loaded are merged, never duplicated)",
            EXIT_FAILURE,
        ) from None
    trace = pipeline.last_trace
    normalized = trace.last_normalize_info if trace is not None else None
    loaded = dict(normalized.row_counts) if normalized is not None else {}
    remove_old_rejections(pipeline, path.name, imported_at)
    merged = merge_identities(pipeline)
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
        list_name=(target.name or str(target.id)) if target else None,
        rejected=counts.rejected,
        malformed=len(parsed.rejected),
        invalid=counts.rejected - counts.duplicates - len(parsed.rejected),
        duplicates=counts.duplicates,
        merged_contacts=merged.contacts,
        ignored_status_columns=[dialect.header[i].strip() for i, _ in statuses],
        padded_rows=parsed.padded,
    )
