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

import duckdb
import pyarrow as pa
from dlt.common.schema.typing import TWriteDisposition
from dlt.pipeline.exceptions import PipelineStepFailed

from pipelines.errors import EXIT_FAILURE, EXIT_USAGE, CommandError
from pipelines.interrupts import InterruptHandler, reraise_if_interrupted
from pipelines.layers import CRM_DATASET
from pipelines.logs import console
from pipelines.settings import DEFAULT_LOCK_WAIT_SECONDS
from pipelines.warehouse import ResumeFailed, WarehouseBusy, WarehouseError, raise_if_busy, writing

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
            first = str(exc).splitlines()[0]
            raise CommandError(f"{path}: cannot be read ({first})", EXIT_USAGE) from None
        if not any(c.strip().lower() == "email" for c in columns):
            console().warning(
                f"mailjet-elt load: {path.name} has no `email` column; audiences join CRM tables on it"
            )
        disposition: TWriteDisposition = "append" if append else "replace"
        rows = [0]

        def data() -> Iterator[pa.Table]:
            for batch in batches:
                rows[0] += batch.num_rows
                yield pa.Table.from_batches([batch])

        stop = interrupts or InterruptHandler("load")
        started = time.monotonic()
        try:
            with writing(db, destination, "load", CRM_DATASET, lock_wait, _say, interrupts=stop) as warehouse:
                pipeline = warehouse.pipeline
                try:
                    warehouse.journal("load", None)
                    with stop.immediate():  # reading the file writes nothing that matters
                        extracted = pipeline.extract(data(), table_name=table, write_disposition=disposition)
                    warehouse.journal("load", extracted.loads_ids[-1])
                    stop.check()
                    pipeline.normalize()
                    pipeline.load()
                except PipelineStepFailed as exc:
                    reraise_if_interrupted(exc)
                    raise_if_busy(exc, "`load`")
                    raise CommandError(
                        f"{path}: loading failed ({exc.step}: {exc.exception}); crm.{table} is as it was "
                        "unless the load completed; run `load` again",
                        EXIT_FAILURE,
                    ) from None
                warehouse.close_journal()
                resumed = warehouse.resumed
        except WarehouseError as exc:
            raise CommandError(str(exc), EXIT_USAGE) from None
        except (WarehouseBusy, ResumeFailed) as exc:
            raise CommandError(str(exc), EXIT_FAILURE) from None
    finally:
        con.close()
    return LoadResult(
        file=str(path),
        table=f"{CRM_DATASET}.{table}",
        rows=rows[0],
        columns=columns,
        appended=append,
        seconds=time.monotonic() - started,
        database=db if destination in (None, "duckdb") else None,
        resumed=resumed,
    )


def _say(text: str) -> None:
    console().warning(f"mailjet-elt load: {text}")
