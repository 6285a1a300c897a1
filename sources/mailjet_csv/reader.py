"""Parse one CSV export into a staging DuckDB table: the line each row starts on and its fields as a
list (one column whatever the file's width). Only what needs the parser is decided here (rows with the
wrong number of fields, undecodable bytes, broken quoting); every check on values happens in SQL
afterwards (`rows.py`).

Python's csv module rather than DuckDB's CSV reader for this one step: DuckDB skips or nulls a malformed
row without its raw text and line, and the product must report every refused row as it was written (and
still honour an unsubscribe it states). Everything after parsing is DuckDB SQL.

Two ways through the same parser, with the same options. A file is first read in batches (`_stage_batches`):
the parser's C loop hands over `BATCH_ROWS` rows at a time, never a Python step per row; the line each
row starts on is counted from the line breaks inside its fields (a record spans one line more than the
breaks its quoted values hold) and checked against the parser's own count after every batch; blank rows
and rows of the wrong width are found on the whole batch, and only those go through Python. A file that
needs more than that (bytes the encoding cannot decode, quoting the strict parser refuses) is read again
row by row (`_stage_rows`), which reports each such row with its text and its lines."""

from __future__ import annotations

import csv
import io
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sources.mailjet_csv import settings
from sources.mailjet_csv.dialect import Dialect, Lines, header_record, is_blank, is_wide

# (file name, rows read so far, bytes read so far, file size): the CLI's progress lines.
ReadProgress = Callable[[str, int, int, int], None]
_SHORT_ROW_HINT = "; if the missing cells are empty last columns (as Excel writes them), use --pad-short-rows"
_SCHEMA = pa.schema(
    [pa.field("line", pa.int64()), pa.field("fields", pa.list_(pa.string())), pa.field("refused", pa.bool_())]
)
# Whitespace as str.strip() sees it (every character whose str.isspace() is true), and a pattern for a
# character that is not: a row holding one is not blank (`is_blank`).
SPACES = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + ("\u2028\u2029\u202f\u205f\u3000")
)
_NOT_SPACE = "[^" + "".join(f"\\x{{{ord(c):x}}}" for c in SPACES) + "]"


class _RowByRow(Exception):
    """The batched read met something only the row-by-row read reports: bytes the encoding cannot
    decode, quoting the strict parser refuses, or a count of lines that does not add up."""


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
    row is reported rather than silently swallowing the rows after it. In batches when the file allows
    it, else (or from the start, for a file `sniff` found damaged) row by row."""
    # The csv module's field limit is process-wide; raise it so a huge field is read (and then rejected
    # by length with a clear reason) instead of derailing the parser.
    csv.field_size_limit(settings.MAX_FIELD_BYTES)
    if "not valid" not in dialect.encoding_note:
        try:
            return _stage_batches(con, path, dialect, table, progress, pad_short_rows)
        except (_RowByRow, csv.Error, UnicodeError):
            pass  # read again, row by row, to report what the batches could not
    return _stage_rows(con, path, dialect, table, progress, pad_short_rows)


def _create(con: duckdb.DuckDBPyConnection, table: str) -> None:
    con.execute(f"create or replace table {table} (line bigint, fields varchar[], refused boolean)")


def _stage_batches(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    dialect: Dialect,
    table: str,
    progress: ReadProgress | None,
    pad_short_rows: bool,
) -> Parsed:
    """`stage` in batches of `BATCH_ROWS` rows; raises _RowByRow, csv.Error or UnicodeError where only
    the row-by-row read can report the file's rows (the table is then left half filled)."""
    _create(con, table)
    parsed = Parsed()
    size = path.stat().st_size
    last_report = time.monotonic()
    reported = False
    with path.open("rb") as raw, io.TextIOWrapper(raw, encoding=dialect.encoding, newline="") as text:
        first = text.readline()
        source = itertools.chain([first.lstrip("\ufeff")] if first else [], text)
        header_reader = csv.reader(source, delimiter=dialect.delimiter)
        header_record(header_reader)
        offset = header_reader.line_num  # lines up to and including the header
        reader = csv.reader(source, delimiter=dialect.delimiter, quotechar='"', doublequote=True, strict=True)
        ended = offset  # the last line of the rows read so far
        while records := list(itertools.islice(reader, settings.BATCH_ROWS)):
            batch, ended = _batch(records, ended, dialect, pad_short_rows, parsed)
            if ended != offset + reader.line_num:
                raise _RowByRow
            con.register("staging_batch", batch)
            con.execute(f"insert into {table} select * from staging_batch")
            con.unregister("staging_batch")
            if progress is not None and time.monotonic() - last_report >= 5:
                last_report, reported = time.monotonic(), True
                progress(path.name, parsed.rows, raw.tell(), size)
    if progress is not None and reported:
        progress(path.name, parsed.rows, size, size)
    return parsed


def _batch(
    records: list[list[str]], ended: int, dialect: Dialect, pad_short_rows: bool, parsed: Parsed
) -> tuple[pa.Table, int]:
    """The rows to stage of `records`, the parser's rows after line `ended`, and the last line they
    end on. Blank rows are left out; rows of the wrong width go through `shape_row`, one by one, and
    those it refuses are counted in `parsed` with their line and text."""
    fields = pa.array(records, _SCHEMA.field("fields").type)
    joined = pc.binary_join(fields, "")
    # UTF-16 and UTF-32 files are read with U+FFFD for bytes they cannot decode, row by row.
    if is_wide(dialect.encoding) and pc.any(pc.match_substring(joined, "\ufffd")).as_py():
        raise _RowByRow
    # A record spans one line more than the line breaks its (quoted) values hold.
    breaks = (
        np.asarray(pc.count_substring(joined, "\n"), np.int64)
        + np.asarray(pc.count_substring(joined, "\r"), np.int64)
        - np.asarray(pc.count_substring(joined, "\r\n"), np.int64)
    )
    ends = ended + np.cumsum(breaks + 1)
    starts = np.concatenate(([ended + 1], ends[:-1] + 1))
    kept = np.asarray(pc.match_substring_regex(joined, _NOT_SPACE), np.bool_)  # not blank
    width = len(dialect.header)
    refused = np.zeros(len(records), np.bool_)
    odd = np.flatnonzero(kept & (np.asarray(pc.list_value_length(fields), np.int64) != width))
    for i in odd:
        shaped, reason, padded = shape_row(records[i], width, pad_short_rows)
        records[i] = shaped
        parsed.padded += padded
        if reason is not None:
            refused[i] = True
            parsed.rejected.append((int(starts[i]), raw_row(shaped, dialect.delimiter), reason))
    if len(odd):
        fields = pa.array(records, _SCHEMA.field("fields").type)
    parsed.rows += int(np.count_nonzero(kept & ~refused))
    batch = pa.Table.from_arrays(
        [pa.array(starts, pa.int64()), fields, pa.array(refused, pa.bool_())], schema=_SCHEMA
    )
    if not kept.all():
        batch = batch.filter(pa.array(kept, pa.bool_()))
    return batch, int(ends[-1])


def _stage_rows(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    dialect: Dialect,
    table: str,
    progress: ReadProgress | None,
    pad_short_rows: bool,
) -> Parsed:
    """`stage` one row at a time: every row the parser refuses, or that holds bytes the encoding cannot
    decode, is reported with its text and lines, and the rows after it are read on."""
    width = len(dialect.header)
    _create(con, table)
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
