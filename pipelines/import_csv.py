"""`mailjet-elt import-csv`: contact exports from Mailjet's web app -> the same tables as the extract."""

from __future__ import annotations

import contextlib
import shutil
import time
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from dlt.destinations.exceptions import (
    DatabaseException,
    DatabaseUndefinedRelation,
    DestinationConnectionError,
)
from dlt.pipeline.exceptions import PipelineStepFailed
from dlt.pipeline.pipeline import Pipeline

from pipelines.errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from pipelines.identity import merge_identities
from pipelines.interrupts import InterruptHandler, reraise_if_interrupted
from pipelines.logs import console
from pipelines.rejections import remove_old_rejections
from pipelines.settings import DEFAULT_LOCK_WAIT_SECONDS
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
STAGING_FOLDER = "csv-staging"  # in the pipeline's working folder, removed after each import


class ImportFailed(Exception):
    """The import could not run or did not finish; `exit_code` says which kind of failure."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def resolve_list(pipeline: Pipeline, ref: str) -> tuple[TargetList, str | None]:
    """The list `--list` names, by ID or else by name (case-insensitive; live lists first), among the
    lists in the database; a list not there is created locally. Returns it with a note for the user."""
    ref = ref.strip()
    if not ref:
        raise ImportFailed("--list needs a list name or ID", EXIT_USAGE)
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
) -> str:
    """Import the files in the order given (a later file's values replace an earlier one's); returns
    the summary to print, or raises ImportFailed. Every file is checked before anything is loaded."""
    paths = [Path(f) for f in files]
    try:
        dialects: list[Dialect] = [sniff(p, encoding) for p in paths]
    except CsvFileError as exc:
        raise ImportFailed(str(exc), EXIT_USAGE) from None
    names = [p.name for p in paths]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ImportFailed(
            f"two files named {repeated[0]}: rows are tagged with their file's name (_source = "
            f"'csv:{repeated[0]}'), so rename one of them",
            EXIT_USAGE,
        )
    stop = interrupts or InterruptHandler("import-csv")
    try:
        with writing(db, destination, "import-csv", lock_wait, _say, interrupts=stop) as warehouse:
            lines = list(warehouse.resumed)
            rejected = _import_files(
                warehouse, paths, dialects, list_ref, progress, pad_short_rows, stop, lines
            )
    except WarehouseError as exc:
        raise ImportFailed(str(exc), EXIT_USAGE) from None
    except (WarehouseBusy, ResumeFailed) as exc:
        raise ImportFailed(str(exc), EXIT_FAILURE) from None
    if rejected and db and destination in (None, "duckdb"):
        lines.append(f'Rejected rows: duckdb {db} "select * from mailjet.csv_rejections order by file, line"')
    return "\n".join(lines)


def _import_files(
    warehouse: Warehouse,
    paths: Sequence[Path],
    dialects: Sequence[Dialect],
    list_ref: str | None,
    progress: bool,
    pad_short_rows: bool,
    stop: InterruptHandler,
    lines: list[str],
) -> int:
    """Import the files one by one, appending their summaries to `lines`; how many rows were rejected."""
    pipeline = warehouse.pipeline
    target, note = resolve_list(pipeline, list_ref) if list_ref else (None, None)
    if note:
        lines.append(f"note: {note}")
    rejected = 0
    # Under the writer lock, so a folder left by a killed import is always ours to replace.
    staging = Path(pipeline.working_dir) / STAGING_FOLDER
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
                out, count = _import_file(
                    con, warehouse, path, dialect, target, progress, pad_short_rows, stop
                )
                lines.extend(out)
                rejected += count
        finally:
            con.close()
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return rejected


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
) -> tuple[list[str], int]:
    """Import one file; returns its summary lines and how many of its rows were rejected."""
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
        raise ImportFailed(
            f"{path}: cannot be read as {dialect.encoding} ({exc}); pass --encoding with the file's encoding",
            EXIT_USAGE,
        ) from None
    except duckdb.Error as exc:
        raise ImportFailed(
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
        raise ImportFailed(
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
    read = parsed.rows + len(parsed.rejected)
    out = [
        f"{path.name}: {dialect.encoding_note}, {dialect.delimiter_name}-separated; {read:,} rows read in "
        f"{seconds:.1f} s",
        f"  contacts {counts.contacts:,} · property values {loaded.get('contact_properties', 0):,}"
        + (f" · memberships of list {target.name or target.id} {counts.contacts:,}" if target else ""),
    ]
    if counts.rejected:
        parts = [
            f"{len(parsed.rejected):,} malformed (field count, encoding or quoting)"
            if parsed.rejected
            else "",
            f"{counts.rejected - counts.duplicates - len(parsed.rejected):,} invalid"
            if counts.rejected - counts.duplicates - len(parsed.rejected)
            else "",
            f"{counts.duplicates:,} duplicate email{_s(counts.duplicates)} (first row kept)"
            if counts.duplicates
            else "",
        ]
        out.append(
            f"  rejected {counts.rejected:,}: {', '.join(p for p in parts if p)} -> mailjet.csv_rejections"
        )
    if merged.contacts:
        out.append(
            f"  {merged.contacts:,} contact{_s(merged.contacts)} matched Mailjet contacts by email (merged)"
        )
    if staged.columns.statuses and target is None:
        named = ", ".join(repr(dialect.header[i].strip()) for i, _ in staged.columns.statuses)
        out.append(f"  subscription status ({named}) ignored: pass --list to record list memberships")
    if parsed.padded:
        out.append(f"  {parsed.padded:,} short rows completed with empty cells (--pad-short-rows)")
    return out, counts.rejected


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def run_import_csv(
    db: str,
    destination: str | None,
    files: Sequence[str],
    list_ref: str | None,
    encoding: str | None,
    pad_short_rows: bool,
    lock_wait: float,
    interrupts: InterruptHandler,
) -> int:
    """The `import-csv` command: exit 0 when every file loaded (rejected rows included), 2 when a file
    cannot be imported at all, 1 when loading failed."""
    try:
        print(
            import_csv(
                db, destination, files, list_ref, encoding, True, pad_short_rows, interrupts, lock_wait
            )
        )
    except ImportFailed as exc:
        console().error(f"mailjet-elt import-csv: {exc}")
        return exc.exit_code
    except (DestinationConnectionError, DatabaseException) as exc:
        console().error(
            f"mailjet-elt import-csv: the database could not be used ({exc}); if another process has "
            "it open, wait for it to finish and import again"
        )
        return EXIT_FAILURE
    return EXIT_OK
