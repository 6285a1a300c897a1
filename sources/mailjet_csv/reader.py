"""Parse one CSV export into a staging DuckDB table: the line each row starts on and its fields as a
list (one column whatever the file's width). Only what needs the parser is decided here (rows with the
wrong number of fields, undecodable bytes, broken quoting); every check on values happens in SQL
afterwards (`rows.py`).

Python's csv module rather than DuckDB's CSV reader for this one step: DuckDB skips or nulls a malformed
row without its raw text and line, and the product must report every refused row as it was written (and
still honour an unsubscribe it states). Everything after parsing is DuckDB SQL."""

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


class _Staging:
    """Rows on their way into the staging table, inserted in batches of `BATCH_ROWS` through Arrow."""

    def __init__(self, con: duckdb.DuckDBPyConnection, table: str) -> None:
        self.con, self.table = con, table
        self.lines: list[int] = []
        self.fields: list[list[str]] = []
        self.refused: list[bool] = []

    def keep(self, start: int, fields: list[str], refused: bool) -> None:
        self.lines.append(start)
        self.fields.append(fields)
        self.refused.append(refused)
        if len(self.lines) >= settings.BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.lines:
            return
        arrow = pa.Table.from_arrays(
            [
                pa.array(self.lines, pa.int64()),
                pa.array(self.fields, _SCHEMA.field("fields").type),
                pa.array(self.refused, pa.bool_()),
            ],
            schema=_SCHEMA,
        )
        self.con.register("staging_batch", arrow)
        self.con.execute(f"insert into {self.table} select * from staging_batch")
        self.con.unregister("staging_batch")
        self.lines, self.fields, self.refused = [], [], []


def shape_row(fields: list[str], width: int, pad_short_rows: bool) -> tuple[list[str], str | None, bool]:
    """A parsed row against the header's `width`: its fields as kept (trailing empty cells a spreadsheet
    added dropped; with `pad_short_rows`, a short row completed), why it is refused (None: it is not),
    and whether it was padded."""
    if len(fields) > width and is_blank(fields[width:]):
        return fields[:width], None, False
    if len(fields) < width and pad_short_rows:
        return fields + [""] * (width - len(fields)), None, True
    if len(fields) != width:
        hint = "" if len(fields) > width else _SHORT_ROW_HINT
        return fields, f"{len(fields)} fields, the header has {width}{hint}", False
    return fields, None, False


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
    parsed, staging = Parsed(), _Staging(con, table)
    size = path.stat().st_size
    previous_end = offset
    last_report = time.monotonic()
    reported = False
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            start, previous_end = previous_end + 1, offset + reader.line_num
            text = "".join(list(lines.recent)[-(previous_end - start + 1) :])
            parsed.rejected.append(
                (start, truncate(text.rstrip("\r\n")), _parser_reason(exc, start, previous_end))
            )
            continue
        start, previous_end = previous_end + 1, offset + reader.line_num
        if is_blank(fields):  # a blank line, or a spreadsheet's empty row
            continue
        damaged = lines.damaged.intersection(range(start, previous_end + 1)) if lines.damaged else set()
        if damaged:
            reason: str | None = f"bytes that are not valid {dialect.encoding} (line {min(damaged)})"
        else:
            fields, reason, padded = shape_row(fields, width, pad_short_rows)
            parsed.padded += padded
        if reason is not None:
            parsed.rejected.append((start, raw_row(fields, dialect.delimiter), reason))
            staging.keep(start, fields, True)
            continue
        staging.keep(start, fields, False)
        parsed.rows += 1
        if (
            progress is not None
            and parsed.rows % settings.BATCH_ROWS == 0
            and time.monotonic() - last_report >= 5
        ):
            last_report, reported = time.monotonic(), True
            progress(path.name, parsed.rows, lines.bytes_read, size)
    staging.flush()
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
