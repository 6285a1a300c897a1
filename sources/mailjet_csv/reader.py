"""Parse one CSV export into a staging DuckDB table: the line each row starts on and its fields as a
list (one column whatever the file's width). Only what needs the parser is decided here (rows with the
wrong number of fields, undecodable bytes, broken quoting); every check on values happens in SQL
afterwards (`rows.py`)."""

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
from sources.mailjet_csv.dialect import Dialect, Lines, header_record, is_blank

# (file name, rows read so far, bytes read so far, file size): the CLI's progress lines.
ReadProgress = Callable[[str, int, int, int], None]
_SHORT_ROW_HINT = "; if the missing cells are empty last columns (as Excel writes them), use --pad-short-rows"
_SCHEMA = pa.schema(
    [pa.field("line", pa.int64()), pa.field("fields", pa.list_(pa.string())), pa.field("refused", pa.bool_())]
)


@dataclass
class Parsed:
    """What parsing one file found, before any value was checked."""

    rows: int = 0  # data rows parsed into the staging table
    padded: int = 0  # short rows completed with empty cells (--pad-short-rows)
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # (line, raw row, reason)


def stage(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    dialect: Dialect,
    table: str,
    progress: ReadProgress | None = None,
    pad_short_rows: bool = False,
) -> Parsed:
    """Parse `path` into `table` (created here): (line, fields, refused). Rows the parser refused but
    could split into fields (wrong count, damaged bytes) are kept with `refused` set: they are rejected,
    yet an unsubscribe they state still counts. Streams in batches, so memory does not grow with the
    file. The header is read leniently (as `sniff` read it), the rows strictly, so a broken quote in a
    row is reported rather than silently swallowing the rows after it."""
    width = len(dialect.header)
    con.execute(f"create or replace table {table} (line bigint, fields varchar[], refused boolean)")
    # The csv module's field limit is process-wide; raise it so a huge field is read (and then rejected
    # by length with a clear reason) instead of derailing the parser.
    csv.field_size_limit(settings.MAX_FIELD_BYTES)
    lines = Lines(path, dialect.encoding)
    source = iter(lines)
    header_reader = csv.reader(source, delimiter=dialect.delimiter)
    header_record(header_reader)
    offset = header_reader.line_num  # lines up to and including the header
    reader = csv.reader(source, delimiter=dialect.delimiter, quotechar='"', doublequote=True, strict=True)
    parsed = Parsed()
    size = path.stat().st_size
    batch_lines: list[int] = []
    batch: list[list[str]] = []
    batch_refused: list[bool] = []
    previous_end = offset
    last_report = time.monotonic()
    reported = False

    def flush() -> None:
        if not batch_lines:
            return
        arrow = pa.Table.from_arrays(
            [
                pa.array(batch_lines, pa.int64()),
                pa.array(batch, _SCHEMA.field("fields").type),
                pa.array(batch_refused, pa.bool_()),
            ],
            schema=_SCHEMA,
        )
        con.register("staging_batch", arrow)
        con.execute(f"insert into {table} select * from staging_batch")
        con.unregister("staging_batch")
        batch_lines.clear()
        batch.clear()
        batch_refused.clear()

    def keep(start: int, fields: list[str], refused: bool) -> None:
        batch_lines.append(start)
        batch.append(fields)
        batch_refused.append(refused)
        if len(batch_lines) >= settings.BATCH_ROWS:
            flush()

    def reject(start: int, raw: str, reason: str, fields: list[str] | None = None) -> None:
        parsed.rejected.append((start, raw, reason))
        if fields is not None:
            keep(start, fields, True)

    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            start, previous_end = previous_end + 1, offset + reader.line_num
            text = "".join(list(lines.recent)[-(previous_end - start + 1) :])
            reject(start, truncate(text.rstrip("\r\n")), _parser_reason(exc, start, previous_end))
            continue
        start, previous_end = previous_end + 1, offset + reader.line_num
        if is_blank(fields):  # a blank line, or a spreadsheet's empty row
            continue
        if lines.damaged and not lines.damaged.isdisjoint(range(start, previous_end + 1)):
            bad = min(lines.damaged.intersection(range(start, previous_end + 1)))
            reason = f"bytes that are not valid {dialect.encoding} (line {bad})"
            reject(start, raw_row(fields, dialect.delimiter), reason, fields)
            continue
        if len(fields) > width and is_blank(fields[width:]):
            fields = fields[:width]  # trailing empty cells a spreadsheet added
        elif len(fields) < width and pad_short_rows:
            fields = fields + [""] * (width - len(fields))
            parsed.padded += 1
        if len(fields) != width:
            hint = "" if len(fields) > width else _SHORT_ROW_HINT
            reason = f"{len(fields)} fields, the header has {width}{hint}"
            reject(start, raw_row(fields, dialect.delimiter), reason, fields)
            continue
        keep(start, fields, False)
        parsed.rows += 1
        if (
            progress is not None
            and parsed.rows % settings.BATCH_ROWS == 0
            and time.monotonic() - last_report >= 5
        ):
            last_report, reported = time.monotonic(), True
            progress(path.name, parsed.rows, lines.bytes_read, size)
    flush()
    if progress is not None and reported:
        progress(path.name, parsed.rows, size, size)
    return parsed


def raw_row(fields: list[str], delimiter: str) -> str:
    """A row written back as CSV with the file's delimiter (quoted where needed), cut to a readable length."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerow(fields)
    return truncate(out.getvalue().removesuffix("\r\n"))


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
