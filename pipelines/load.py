"""`mailjet-elt load FILE --table NAME`: the user's own data (a CSV, Parquet or JSONL file) -> `crm.NAME`
through dlt, replacing the table by default or appending to it. Documented shapes: `crm.profiles` (an
`email` column and any profile columns) and `crm.consent_events` (email, permission, granted, at,
source); the audiences read them. Any other dlt source, or the warehouse itself, can fill them too."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dlt
import duckdb
import pyarrow as pa
from dlt.common.libs.pyarrow import py_arrow_to_table_schema_columns
from dlt.common.schema import Schema
from dlt.pipeline.exceptions import PipelineStepFailed
from dlt.pipeline.pipeline import Pipeline

from pipelines.errors import EXIT_FAILURE, EXIT_USAGE, CommandError
from pipelines.interrupts import InterruptHandler, reraise_if_interrupted
from pipelines.logs import console
from pipelines.settings import DEFAULT_LOCK_WAIT_SECONDS
from pipelines.warehouse import raise_if_busy
from pipelines.warehouse.datasets import CRM_DATASET
from pipelines.warehouse.incoming import (
    INCOMING,
    TypeChange,
    forget_started,
    mark_started,
    put_in_place,
    storage_columns,
    type_changes,
)
from pipelines.warehouse.writing import writing

# How each kind of file is read (DuckDB's readers stream it, with typed columns).
READERS = {
    ".csv": "read_csv_auto(?, header = true)",
    ".parquet": "read_parquet(?)",
    ".jsonl": "read_json_auto(?, format = 'newline_delimited')",
    ".ndjson": "read_json_auto(?, format = 'newline_delimited')",
}
TABLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
BATCH_ROWS = 100_000


@dataclass(frozen=True)
class LoadResult:
    """What a load did."""

    file: str
    table: str  # dataset-qualified, e.g. crm.profiles
    rows: int
    columns: list[str]
    appended: bool
    seconds: float
    database: str | None
    resumed: list[str] = field(default_factory=list)
    retyped: list[str] = field(default_factory=list)  # `column (old type -> new type)` of a replace


def reader_sql(path: Path) -> str:
    """The DuckDB query reading `path`; raises CommandError for a file it cannot be."""
    if not path.is_file():
        what = "is a directory" if path.is_dir() else "does not exist"
        raise CommandError(f"{path} {what}: name a CSV, Parquet or JSONL file", EXIT_USAGE)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise CommandError(
            f"{path}: cannot tell its format from {path.suffix or 'no extension'!r}; name a file ending in "
            f"{', '.join(READERS)}",
            EXIT_USAGE,
        )
    return f"select * from {reader}"


def load(
    *,
    db: str,
    file: str,
    table: str,
    destination: str | None = None,
    append: bool = False,
    allow_empty: bool = False,
    interrupts: InterruptHandler | None = None,
    lock_wait: float = DEFAULT_LOCK_WAIT_SECONDS,
) -> LoadResult:
    """Load `file` into `crm.<table>`; what it did, or CommandError. The file is read, and its types
    checked against the table, before anything is written; its rows then go in place in one transaction,
    so a load that fails or is stopped leaves the table as it was."""
    if not TABLE_NAME.fullmatch(table):
        raise CommandError(
            f"--table {table!r}: use lowercase letters, digits and underscores, starting with a letter "
            "(e.g. profiles, consent_events)",
            EXIT_USAGE,
        )
    path = Path(file)
    sql = reader_sql(path)
    con = duckdb.connect()
    try:
        try:
            relation = con.sql(sql, params=[str(path)])
            columns = list(relation.columns)
            batches = relation.to_arrow_reader(BATCH_ROWS)
            first = _first_rows(batches)
        # DuckDB's errors past the query's start reach the Arrow reader as OSError.
        except (duckdb.Error, pa.ArrowException, OSError) as exc:
            raise CommandError(f"{path}: cannot be read ({_first_lines(exc)})", EXIT_USAGE) from None
        if first is None and not append and not allow_empty:
            raise CommandError(
                f"{path} has no rows (a header alone): loading it would leave {CRM_DATASET}.{table} empty. "
                f"Nothing was changed. Check the export; if {CRM_DATASET}.{table} must be emptied, load it "
                "again with --allow-empty",
                EXIT_USAGE,
            )
        if not any(c.strip().lower() == "email" for c in columns):
            console().warning(
                f"mailjet-elt load: {path.name} has no `email` column; audiences join CRM tables on it"
            )
        broken: list[str] = []  # why the file could not be read to its end, if it could not
        rows = _chain(first, batches, broken)
        # A fresh incoming table each time, typed as the file is (see pipelines/warehouse/incoming.py).
        data = dlt.resource(rows, name=INCOMING, write_disposition="append")
        stop = interrupts or InterruptHandler("load")
        started = time.monotonic()
        with writing(db, destination, "load", CRM_DATASET, lock_wait, _say, interrupts=stop) as warehouse:
            pipeline = warehouse.pipeline
            changed = _check_types(pipeline, batches.schema, path, table, append and first is not None)
            mark_started(pipeline, table, str(path.resolve()), append)
            target = {"table": table, "append": append}
            try:
                warehouse.load("load", data, stop, target=target)
            except PipelineStepFailed as exc:
                raise _failure(exc, pipeline, path, table, broken) from None
            put_in_place(pipeline, table, append)
            warehouse.close_journal()
            resumed = warehouse.resumed
            trace = pipeline.last_trace
            normalized = trace.last_normalize_info if trace is not None else None
            count = dict(normalized.row_counts).get(INCOMING, 0) if normalized is not None else 0
            warehouse.summary = f"{count:,} rows from {path.name} into {CRM_DATASET}.{table}"
    finally:
        con.close()
    return LoadResult(
        file=str(path),
        table=f"{CRM_DATASET}.{table}",
        rows=count,
        columns=columns,
        appended=append,
        seconds=time.monotonic() - started,
        database=db if destination in (None, "duckdb") else None,
        resumed=resumed,
        retyped=[] if append else [str(c) for c in changed],
    )


def _first_rows(batches: pa.RecordBatchReader) -> pa.RecordBatch | None:
    """The file's first rows (None for a file of none), read before anything is written."""
    for batch in batches:
        if batch.num_rows:
            return batch
    return None


def _chain(first: pa.RecordBatch | None, rest: pa.RecordBatchReader, broken: list[str]) -> Iterator[pa.Table]:
    """The file's rows, a batch at a time, the first one read already; why the file broke off, if it did,
    goes in `broken`. A file of no rows still gives its columns (an empty table of them)."""
    if first is None:
        yield rest.schema.empty_table()
        return
    yield pa.Table.from_batches([first])
    yield from _tables(rest, broken)


def _check_types(
    pipeline: Pipeline, schema: pa.Schema, path: Path, table: str, append: bool
) -> list[TypeChange]:
    """The columns whose type the file changes; CommandError (exit 2, nothing written) when adding rows
    (--append) whose types the table does not have."""
    naming = Schema(CRM_DATASET).naming
    incoming = {
        naming.normalize_identifier(name): column
        for name, column in py_arrow_to_table_schema_columns(schema).items()
    }
    changed = type_changes(storage_columns(pipeline, table), incoming)
    if append and changed:
        shown = ", ".join(str(c) for c in changed)
        raise CommandError(
            f"{path}: --append adds rows to {CRM_DATASET}.{table} as it is, and the file's types differ from "
            f"the table's: {shown} (the table's type -> the file's). Nothing was changed. Load the file "
            "without --append to replace the table (its types then win), or give those columns the table's "
            "types in the file",
            EXIT_USAGE,
        )
    return changed


def _tables(batches: pa.RecordBatchReader, broken: list[str]) -> Iterator[pa.Table]:
    """The file's rows, a batch at a time; why it broke off, if it did, goes in `broken`."""
    try:
        for batch in batches:
            yield pa.Table.from_batches([batch])
    # DuckDB's errors past the file's start reach the Arrow reader as OSError.
    except (duckdb.Error, pa.ArrowException, OSError) as exc:
        broken.append(_first_lines(exc))
        raise


def _failure(
    exc: PipelineStepFailed, pipeline: Pipeline, path: Path, table: str, broken: list[str]
) -> CommandError:
    """The error a failed load ends with (the signal's own exception when the user stopped it). The
    failed package is given up, so that nothing is left for the next command to trip over."""
    reraise_if_interrupted(exc)
    pipeline.abort_packages()
    raise_if_busy(exc, "`load`")
    forget_started(pipeline, table)
    if broken:  # the file broke off past its start
        return CommandError(
            f"{path}: cannot be read ({broken[0]}); crm.{table} is as it was. Fix the file, or "
            "give the column one type throughout (e.g. save it as Parquet)",
            EXIT_USAGE,
        )
    return CommandError(
        f"{path}: loading failed ({exc.step}: {_first_lines(exc.exception)}); crm.{table} is as it was. "
        "Fix the cause and run `load` again",
        EXIT_FAILURE,
    )


def _first_lines(exc: BaseException) -> str:
    """DuckDB's error in one line: its first line, and the one saying what did not convert."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    said = [line for line in lines[1:] if line.startswith(("Error when", "Could not"))]
    return "; ".join(lines[:1] + said[:1])


def _say(text: str) -> None:
    console().warning(f"mailjet-elt load: {text}")
