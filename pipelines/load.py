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
from dlt.common.schema.typing import TWriteDisposition
from dlt.pipeline.exceptions import PipelineStepFailed

from pipelines.errors import EXIT_FAILURE, EXIT_USAGE, CommandError
from pipelines.interrupts import InterruptHandler, reraise_if_interrupted
from pipelines.logs import console
from pipelines.settings import DEFAULT_LOCK_WAIT_SECONDS
from pipelines.warehouse import raise_if_busy, writing
from pipelines.warehouse.datasets import CRM_DATASET

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
    interrupts: InterruptHandler | None = None,
    lock_wait: float = DEFAULT_LOCK_WAIT_SECONDS,
) -> LoadResult:
    """Load `file` into `crm.<table>`; what it did, or CommandError. The file is read before anything is
    written, so a file that cannot be read leaves the table as it was."""
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
        except duckdb.Error as exc:
            raise CommandError(f"{path}: cannot be read ({_first_lines(exc)})", EXIT_USAGE) from None
        if not any(c.strip().lower() == "email" for c in columns):
            console().warning(
                f"mailjet-elt load: {path.name} has no `email` column; audiences join CRM tables on it"
            )
        disposition: TWriteDisposition = "append" if append else "replace"
        broken: list[str] = []  # why the file could not be read to its end, if it could not
        data = dlt.resource(_tables(batches, broken), name=table, write_disposition=disposition)
        stop = interrupts or InterruptHandler("load")
        started = time.monotonic()
        with writing(db, destination, "load", CRM_DATASET, lock_wait, _say, interrupts=stop) as warehouse:
            try:
                warehouse.load("load", data, stop)
            except PipelineStepFailed as exc:
                raise _failure(exc, path, table, broken) from None
            warehouse.close_journal()
            resumed = warehouse.resumed
            trace = warehouse.pipeline.last_trace
    finally:
        con.close()
    normalized = trace.last_normalize_info if trace is not None else None
    rows = dict(normalized.row_counts).get(table, 0) if normalized is not None else 0
    return LoadResult(
        file=str(path),
        table=f"{CRM_DATASET}.{table}",
        rows=rows,
        columns=columns,
        appended=append,
        seconds=time.monotonic() - started,
        database=db if destination in (None, "duckdb") else None,
        resumed=resumed,
    )


def _tables(batches: pa.RecordBatchReader, broken: list[str]) -> Iterator[pa.Table]:
    """The file's rows, a batch at a time; why it broke off, if it did, goes in `broken`."""
    try:
        for batch in batches:
            yield pa.Table.from_batches([batch])
    # DuckDB's errors past the file's start reach the Arrow reader as OSError.
    except (duckdb.Error, pa.ArrowException, OSError) as exc:
        broken.append(_first_lines(exc))
        raise


def _failure(exc: PipelineStepFailed, path: Path, table: str, broken: list[str]) -> CommandError:
    """The error a failed load ends with (the signal's own exception when the user stopped it)."""
    reraise_if_interrupted(exc)
    raise_if_busy(exc, "`load`")
    if broken:  # the file broke off past its start: nothing was written
        return CommandError(
            f"{path}: cannot be read ({broken[0]}); crm.{table} is as it was. Fix the file, or "
            "give the column one type throughout (e.g. save it as Parquet)",
            EXIT_USAGE,
        )
    return CommandError(
        f"{path}: loading failed ({exc.step}: {exc.exception}); crm.{table} is as it was "
        "unless the load completed; run `load` again",
        EXIT_FAILURE,
    )


def _first_lines(exc: BaseException) -> str:
    """DuckDB's error in one line: its first line, and the one saying what did not convert."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    said = [line for line in lines[1:] if line.startswith(("Error when", "Could not"))]
    return "; ".join(lines[:1] + said[:1])


def _say(text: str) -> None:
    console().warning(f"mailjet-elt load: {text}")
