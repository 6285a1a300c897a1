"""Parse one CSV export into a staging DuckDB table, one VARCHAR column per CSV column plus the line
each row starts on. Only what needs the parser is decided here (rows with the wrong number of fields,
undecodable bytes, broken quoting); every check on values happens in SQL afterwards (`rows.py`)."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from sources.mailjet_csv import settings
from sources.mailjet_csv.dialect import Dialect, Lines

# (file name, rows read so far, bytes read so far, file size): the CLI's progress lines.
ReadProgress = Callable[[str, int, int, int], None]


@dataclass
class Parsed:
    """What parsing one file found, before any value was checked."""

    rows: int = 0  # data rows parsed into the staging table
    blank: int = 0  # blank lines (or lines of only delimiters) skipped
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # (line, raw row, reason)


def column_names(count: int) -> list[str]:
    """The staging table's columns for a file of `count` columns."""
    return [f"c{i}" for i in range(count)]


def stage(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    dialect: Dialect,
    table: str,
    progress: ReadProgress | None = None,
) -> Parsed:
    """Parse `path` into `table` (created here): `line` then c0…cN as read. Streams in batches, so
    memory does not grow with the file."""
    names = column_names(len(dialect.header))
    width = len(names)
    con.execute(f"create or replace table {table} (line bigint, {', '.join(f'{n} varchar' for n in names)})")
    schema = pa.schema([pa.field("line", pa.int64()), *(pa.field(n, pa.string()) for n in names)])
    # The csv module's field limit is process-wide; raise it so a huge field is read (and then rejected
    # by length with a clear reason) instead of derailing the parser.
    csv.field_size_limit(settings.MAX_FIELD_BYTES)
    lines = Lines(path, dialect.encoding)
    reader = csv.reader(lines, delimiter=dialect.delimiter, quotechar='"', doublequote=True, strict=True)
    parsed = Parsed()
    size = path.stat().st_size
    batch_lines: list[int] = []
    batch: list[list[str]] = [[] for _ in range(width)]
    header_seen = False
    previous_end = 0
    last_report = time.monotonic()
    reported = False
    reported = False

    def flush() -> None:
        if not batch_lines:
            return
        arrow = pa.Table.from_arrays(
            [pa.array(batch_lines, pa.int64()), *(pa.array(col, pa.string()) for col in batch)], schema=schema
        )
        con.register("staging_batch", arrow)
        con.execute(f"insert into {table} select * from staging_batch")
        con.unregister("staging_batch")
        batch_lines.clear()
        for col in batch:
            col.clear()

    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            start, previous_end = previous_end + 1, reader.line_num
            parsed.rejected.append((start, "", _parser_reason(exc, start, previous_end)))
            continue
        start, previous_end = previous_end + 1, reader.line_num
        if not any(f.strip() for f in fields):
            parsed.blank += 1
            continue
        if not header_seen:
            header_seen = True  # the header `sniff` already read
            continue
        if len(fields) != width:
            if len(fields) > width and not any(f.strip() for f in fields[width:]):
                fields = fields[:width]  # trailing empty cells a spreadsheet added
            else:
                parsed.rejected.append(
                    (
                        start,
                        raw_row(fields, dialect.delimiter),
                        f"{len(fields)} fields, the header has {width}",
                    )
                )
                continue
        if lines.damaged and not lines.damaged.isdisjoint(range(start, previous_end + 1)):
            bad = min(lines.damaged.intersection(range(start, previous_end + 1)))
            parsed.rejected.append(
                (
                    start,
                    raw_row(fields, dialect.delimiter),
                    f"bytes that are not valid {dialect.encoding} (line {bad})",
                )
            )
            continue
        batch_lines.append(start)
        for col, value in zip(batch, fields, strict=True):
            col.append(value)
        parsed.rows += 1
        if len(batch_lines) >= settings.BATCH_ROWS:
            flush()
            if progress is not None and time.monotonic() - last_report >= 5:
                last_report, reported = time.monotonic(), True
                progress(path.name, parsed.rows, lines.bytes_read, size)
    flush()
    if progress is not None and reported:
        progress(path.name, parsed.rows, size, size)
    return parsed


def raw_row(fields: list[str], delimiter: str) -> str:
    """A row written back as CSV with the file's delimiter, cut to a readable length."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="").writerow(fields)
    return truncate(out.getvalue())


def truncate(text: str) -> str:
    """`text`, or its start and its length when it is too long to keep whole."""
    if len(text) <= settings.MAX_RAW_ROW_CHARS:
        return text
    return f"{text[: settings.MAX_RAW_ROW_CHARS]}… ({len(text):,} characters)"


def _parser_reason(exc: csv.Error, start: int, end: int) -> str:
    message = str(exc)
    if "unexpected end of data" in message:
        return (
            f"a quoted field opened on line {start} is never closed: lines {start}-{end} (the rest of the "
            "file) could not be read as rows; close the quote and import the file again"
        )
    return f"malformed CSV ({message}) on lines {start}-{end}"
