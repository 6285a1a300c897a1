"""`mailjet-elt sql [QUERY]`: SQL against the configured database, printed as an aligned table, CSV or
JSON. DuckDB (the default, `--db`) is opened read-only for each query, external access off and settings
locked (see sql_access: the database is read, nothing else; `--allow-files` lets local files be read),
and closed once the answer is fetched, so a loading command is never kept waiting longer than the query;
any other dlt destination is queried through dlt's own SQL client, configured the dlt way (and there
what a statement may do is up to the database's own permissions). Without a query: the SQL on stdin, or
an interactive prompt with history when stdin is a terminal. Several statements run in turn, each answer
printed."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from pipelines import models
from pipelines.errors import EXIT_FAILURE, EXIT_USAGE, CommandError, write_out
from pipelines.interrupts import Interrupted, InterruptHandler
from pipelines.logs import console
from pipelines.models import READ_DIALECT
from pipelines.sql_access import ALLOW_FILES, READER_FOLDER, check_statement, explain, first_line, read_only
from pipelines.warehouse.names import (
    API_DATASET,
    CRM_DATASET,
    CSV_DATASET,
    MATCHED_DATASET,
    MODELS_DATASET,
    SYNC_DATASET,
    VIEWS_DATASET,
)
from pipelines.warehouse.paths import check_existing_duckdb, duckdb_path

HISTORY_FILE = "~/.mailjet_elt_sql_history"
HISTORY_LINES = 1000
PROMPT, MORE = "sql> ", "...> "
TABLES = ".tables"  # the shortcut listing every table and view
# The datasets `.tables` lists on a warehouse (on the DuckDB file: every schema).
PROJECT_DATASETS = (
    VIEWS_DATASET,
    MODELS_DATASET,
    API_DATASET,
    CSV_DATASET,
    CRM_DATASET,
    MATCHED_DATASET,
    SYNC_DATASET,
)
TABLE_ROWS = 1000  # an aligned table shows this many rows; CSV and JSON print them all


@dataclass(frozen=True)
class Answer:
    """What one statement gave: its columns and rows (none for a statement that returns nothing)."""

    columns: list[str]
    rows: pa.Table | list[tuple[Any, ...]]

    def batches(self) -> Iterator[list[tuple[Any, ...]]]:
        """The rows, a batch at a time (an Arrow answer is converted batch by batch, not all at once)."""
        if isinstance(self.rows, list):
            yield self.rows
            return
        for batch in self.rows.to_batches(max_chunksize=10_000):
            columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
            yield list(zip(*columns, strict=True))

    @property
    def count(self) -> int:
        return len(self.rows) if isinstance(self.rows, list) else self.rows.num_rows


Run = Callable[[str], list[Answer]]


def run_sql(
    *,
    db: str,
    destination: str | None,
    query: str | None,
    output: str = "table",
    lock_wait: float = 60.0,
    stop: InterruptHandler | None = None,
    allow_files: bool = False,
) -> int:
    """Run `query` (or stdin's SQL, or a prompt) and print what it gives; the exit code. Raises
    CommandError naming a missing database (exit 2) or a query that failed or was refused (exit 1),
    Interrupted when stopped. `allow_files` lets a DuckDB query read local files."""
    stop = stop or InterruptHandler("sql")
    run = _runner(db, destination, lock_wait, stop, allow_files)
    if query is None and not sys.stdin.isatty():
        query = sys.stdin.read()
    if query is None:
        return _prompt(run, output, stop)
    if not query.strip():
        raise CommandError('give a query: mailjet-elt sql "select ..." (or SQL on stdin)', EXIT_USAGE)
    _print_all(run(query), output)
    return 0


def _print_all(answers: list[Answer], output: str) -> None:
    for i, answer in enumerate(answers):
        if i and output != "json":
            write_out("\n")
        for chunk in render(answer, output):
            write_out(chunk)
    write_out("")


def _is_tables(text: str) -> bool:
    """Whether `text` is the `.tables` shortcut: every table and view, by dataset."""
    return text.strip().rstrip(";").strip() == TABLES


def _runner(
    db: str, destination: str | None, lock_wait: float, stop: InterruptHandler, allow_files: bool
) -> Run:
    if destination not in (None, "duckdb"):
        if allow_files:
            raise CommandError(
                f"{ALLOW_FILES} is for the DuckDB file (--db): with --destination {destination}, what a "
                "query may reach is up to that database's own permissions. Leave out --allow-files",
                EXIT_USAGE,
            )
        return _dlt_runner(db, destination, stop)
    path = duckdb_path(db)
    if not path.is_file():
        raise CommandError(
            f"no database at {path}: run `mailjet-elt extract` (or `make demo`, which writes "
            "demo_mailjet_elt.duckdb) first, or name the file with --db PATH",
            EXIT_USAGE,
        )
    check_existing_duckdb(path, db)

    def run(text: str) -> list[Answer]:
        answers: list[Answer] = []
        if _is_tables(text):
            text = models.render("tables", READ_DIALECT, folder=READER_FOLDER)
        with read_only(path, lock_wait, allow_files) as con, stop.immediate():
            try:
                statements = con.extract_statements(text)
                for statement in statements:  # all checked before any runs
                    check_statement(statement, allow_files)
                for statement in statements:
                    relation = con.sql(statement)
                    if relation is not None:
                        answers.append(Answer(list(relation.columns), relation.to_arrow_table()))
            except duckdb.Error as exc:
                raise CommandError(explain(exc, allow_files) or first_line(exc), EXIT_FAILURE) from None
        return answers or [Answer([], [])]

    return run


def _dlt_runner(db: str, destination: str, stop: InterruptHandler) -> Run:
    from dlt.destinations.exceptions import DatabaseException

    from pipelines.warehouse import open_pipeline

    pipeline = open_pipeline(db, destination, API_DATASET)

    def run(text: str) -> list[Answer]:
        if _is_tables(text):
            return [_tables_of(pipeline, stop)]
        try:
            with stop.immediate(), pipeline.sql_client() as client, client.execute_query(text) as cursor:
                description = cursor.native_cursor.description
                columns = [d[0] for d in description] if description else []
                return [Answer(columns, [tuple(r) for r in cursor.fetchall()] if columns else [])]
        except DatabaseException as exc:
            raise CommandError(first_line(exc), EXIT_FAILURE) from None

    return run


def _tables_of(pipeline: Any, stop: InterruptHandler) -> Answer:
    """`.tables` on a warehouse: the tables and views of the project's datasets, read from the engine's
    catalog as dlt reads it (BigQuery's per dataset, Snowflake's upper case), dlt's own tables left out."""
    from dlt.destinations.exceptions import DatabaseException

    from pipelines.warehouse.catalog import relations

    rows: list[tuple[str, str, str]] = []
    try:
        with stop.immediate(), pipeline.sql_client() as client:
            for dataset in PROJECT_DATASETS:
                found = sorted(relations(client, dataset).items())
                rows += [(dataset, name, kind) for name, kind in found if not name.startswith("_dlt")]
    except DatabaseException as exc:
        raise CommandError(first_line(exc), EXIT_FAILURE) from None
    return Answer(["dataset", "name", "kind"], rows)


def render(answer: Answer, output: str) -> Iterator[str]:
    """An answer as text chunks: an aligned table (at most TABLE_ROWS rows, with the count), CSV with a
    header, or a JSON array of objects (a repeated column name gets a suffix: `id`, `id_2`)."""
    if output == "json":
        names = _unique(answer.columns)
        yield "["
        first = True
        for batch in answer.batches():
            for row in batch:
                item = {name: _json_value(v) for name, v in zip(names, row, strict=True)}
                yield ("" if first else ", ") + json.dumps(
                    item, default=_json, allow_nan=False, ensure_ascii=False
                )
                first = False
        yield "]\n"
        return
    if output == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if answer.columns:
            writer.writerow(answer.columns)
        for batch in answer.batches():
            writer.writerows([[_text(v, null="") for v in row] for row in batch])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()
        return
    if not answer.columns:
        yield "ok\n"
        return
    shown: list[tuple[Any, ...]] = []
    for batch in answer.batches():
        shown.extend(batch[: TABLE_ROWS - len(shown)])
        if len(shown) >= TABLE_ROWS:
            break
    yield table(answer.columns, shown, answer.count) + "\n"


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]], total: int | None = None) -> str:
    """Aligned columns under a header: numbers to the right, text to the left, NULL spelled out; with the
    row count (and, when `total` is larger than the rows shown, how to get them all). Written here rather
    than with a table library: thirty lines, and the output is the product's own (tested) text."""
    cells = [[_cell(v) for v in row] for row in rows]
    numeric = [
        all(
            isinstance(row[i], (int, float, Decimal)) and not isinstance(row[i], bool)
            for row in rows
            if row[i] is not None
        )
        and any(row[i] is not None for row in rows)
        for i in range(len(columns))
    ]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if right else v.ljust(w) for v, w, right in zip(values, widths, numeric, strict=True)
        ).rstrip()

    out = [line(list(columns)), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in cells)
    total = len(rows) if total is None else total
    count = f"({total:,} row{'' if total == 1 else 's'}"
    if total > len(rows):
        count += f"; the first {len(rows):,} shown: --format csv or json prints them all"
    out.append(count + ")")
    return "\n".join(out)


def _unique(names: Sequence[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


def _text(value: Any, null: str = "NULL") -> str:
    """A value as text, as it is (CSV keeps line breaks and tabs: the writer quotes them)."""
    if value is None:
        return null
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _utc(value).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return "\\x" + bytes(value).hex()
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=_json, ensure_ascii=False)
    return str(value)


def _cell(value: Any) -> str:
    """A table cell: on one line, tabs and line breaks shown as escapes, so the columns stay aligned."""
    return _text(value).replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")


def _json_value(value: Any) -> Any:
    """A DECIMAL as a JSON number when a double holds it exactly (else as text, every digit kept); a
    float that is not a number (NaN, infinity) as null: JSON has no such number."""
    if isinstance(value, Decimal) and value.is_finite():
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _utc(value: datetime) -> datetime:
    """A zoned timestamp in UTC, as the tables hold them (the driver gives the machine's zone)."""
    return value.astimezone(UTC) if value.tzinfo is not None else value


def _json(value: Any) -> Any:
    """What json cannot write by itself: timestamps in ISO 8601 (with a `T`), the rest as its text."""
    return _utc(value).isoformat() if isinstance(value, datetime) else _text(value)


def _complete(text: str) -> bool:
    """Whether `text` ends a statement: its last line, less a `--` comment, ends with `;`, outside a
    string (an odd count of quotes means one is open)."""
    if text.count("'") % 2:
        return False
    last = text.rstrip().splitlines()[-1] if text.strip() else ""
    return last.split("--", 1)[0].rstrip().endswith(";")


def _history() -> Path | None:
    try:
        return Path(HISTORY_FILE).expanduser()
    except RuntimeError:  # no home directory (HOME unset, no passwd entry): no history
        return None


def _prompt(run: Run, output: str, stop: InterruptHandler) -> int:
    """Read statements (ending with `;`) until `.quit` or end of input. A failed statement is reported,
    a Ctrl-C cancels the statement running (or the lines typed), and the prompt goes on."""
    readline: Any = None
    history = _history()
    with suppress(ImportError):
        import readline  # line editing and history where the platform has it

        readline.set_history_length(HISTORY_LINES)
        if history is not None:
            with suppress(OSError):
                readline.read_history_file(history)
    print('mailjet-elt sql: end each statement with ";"; .tables lists the tables, .quit leaves', flush=True)
    stop.rearm()
    pending: list[str] = []
    try:
        while True:
            try:
                line = input(MORE if pending else PROMPT)
                stripped = line.strip()
                if not pending and stripped.rstrip(";") in (".quit", ".exit", "\\q"):
                    return 0
                if not pending and _is_tables(stripped):
                    _print_all(run(TABLES), output)
                    continue
                if not stripped:
                    continue
                pending.append(stripped)
                text = "\n".join(pending)
                if not _complete(text):
                    continue
                pending = []
                _print_all(run(text), output)
            except EOFError:
                print()
                return 0
            except (KeyboardInterrupt, Interrupted):
                print("\n(cancelled)", flush=True)
                pending = []
                stop.rearm()
            except CommandError as exc:
                console().error(f"mailjet-elt sql: {exc}")
    finally:
        if readline is not None and history is not None:
            with suppress(OSError):
                readline.write_history_file(history)
