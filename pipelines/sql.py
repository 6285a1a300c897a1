"""`mailjet-elt sql [QUERY]`: SQL against the configured database, printed as an aligned table, CSV or
JSON. DuckDB (the default, `--db`) is opened read-only for each query and closed at once, so a loading
command is never kept waiting longer than the query; any other dlt destination is queried through dlt's
own SQL client, configured the dlt way. Without a query: the SQL on stdin, or an interactive prompt
with history when stdin is a terminal."""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from pipelines.errors import EXIT_FAILURE, EXIT_USAGE, CommandError
from pipelines.layers import API_DATASET
from pipelines.logs import console
from pipelines.warehouse import WarehouseBusy, check_existing_duckdb, duckdb_path, lock_holder

HISTORY_FILE = Path("~/.mailjet_elt_sql_history")
PROMPT, MORE = "sql> ", "...> "


@dataclass(frozen=True)
class Answer:
    """What one query gave: its columns and rows (none for a statement that returns nothing)."""

    columns: list[str]
    rows: list[tuple[Any, ...]]


def run_sql(
    *,
    db: str,
    destination: str | None,
    query: str | None,
    output: str = "table",
    lock_wait: float = 60.0,
) -> int:
    """Run `query` (or stdin's SQL, or a prompt) and print what it gives; the exit code. Raises
    CommandError naming a missing database (exit 2) or a query that failed (exit 1)."""
    run = _runner(db, destination, lock_wait)
    if query is None and not sys.stdin.isatty():
        query = sys.stdin.read()
    if query is None:
        return _prompt(run, output)
    if not query.strip():
        raise CommandError('give a query: mailjet-elt sql "select ..." (or SQL on stdin)', EXIT_USAGE)
    if query.strip() == ".tables":
        query = TABLES_QUERY
    print(render(run(query), output))
    return 0


def _runner(db: str, destination: str | None, lock_wait: float) -> Callable[[str], Answer]:
    if destination not in (None, "duckdb"):
        return _dlt_runner(db, destination)
    path = duckdb_path(db)
    if not path.is_file():
        raise CommandError(
            f"no database at {path}: run `mailjet-elt extract` (or `make demo`, which writes "
            "demo_mailjet_elt.duckdb) first, or name the file with --db PATH",
            EXIT_USAGE,
        )
    check_existing_duckdb(path, db)

    def run(text: str) -> Answer:
        with _read_only(path, lock_wait) as con:
            try:
                relation = con.execute(text)
                columns = [d[0] for d in relation.description] if relation.description else []
                return Answer(columns, relation.fetchall() if columns else [])
            except duckdb.Error as exc:
                raise CommandError(_first_line(exc), EXIT_FAILURE) from None

    return run


@contextmanager
def _read_only(path: Path, lock_wait: float) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection, waiting up to `lock_wait` seconds while a loading command writes."""
    deadline = time.monotonic() + lock_wait
    told = False
    while True:
        try:
            con = duckdb.connect(str(path), read_only=True)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise CommandError(f"cannot open {path}: {_first_line(exc)}", EXIT_FAILURE) from None
            if time.monotonic() >= deadline:
                raise WarehouseBusy(
                    f"{path} is being written by another process ({lock_holder(exc)}); waited "
                    f"{lock_wait:g} s. Query it once that command is done, or wait longer with --lock-wait"
                ) from None
            if not told:
                console().warning(f"mailjet-elt sql: {path} is being written; waiting up to {lock_wait:g} s")
                told = True
            time.sleep(0.25)
    try:
        yield con
    finally:
        con.close()


def _dlt_runner(db: str, destination: str) -> Callable[[str], Answer]:
    from dlt.destinations.exceptions import DatabaseException

    from pipelines.warehouse import open_pipeline

    pipeline = open_pipeline(db, destination, API_DATASET)

    def run(text: str) -> Answer:
        try:
            with pipeline.sql_client() as client, client.execute_query(text) as cursor:
                description = cursor.native_cursor.description
                columns = [d[0] for d in description] if description else []
                return Answer(columns, [tuple(r) for r in cursor.fetchall()] if columns else [])
        except DatabaseException as exc:
            raise CommandError(_first_line(exc), EXIT_FAILURE) from None

    return run


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines[:3]) if lines else type(exc).__name__


def render(answer: Answer, output: str) -> str:
    """An answer as an aligned table (with its row count), CSV with a header, or a JSON array."""
    if output == "json":
        rows = [[_json_number(v) for v in row] for row in answer.rows]
        return json.dumps([dict(zip(answer.columns, row, strict=True)) for row in rows], default=_json)
    if output == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if answer.columns:
            writer.writerow(answer.columns)
        writer.writerows([[_cell(v, csv_null="") for v in row] for row in answer.rows])
        return buffer.getvalue().rstrip("\n")
    if not answer.columns:
        return "ok"
    return table(answer.columns, answer.rows)


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Aligned columns under a header: numbers to the right, text to the left, NULL spelled out."""
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
    out.append(f"({len(rows):,} row{'' if len(rows) == 1 else 's'})")
    return "\n".join(out)


def _cell(value: Any, csv_null: str = "NULL") -> str:
    if value is None:
        return csv_null
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _utc(value).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=_json)
    return str(value).replace("\n", " ")


def _json_number(value: Any) -> Any:
    """A DECIMAL as a JSON number when a double holds it exactly (else as text, every digit kept)."""
    if isinstance(value, Decimal) and value.is_finite():
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else str(value)
    return value


def _utc(value: datetime) -> datetime:
    """A zoned timestamp in UTC, as the tables hold them (the driver gives the machine's zone)."""
    return value.astimezone(UTC) if value.tzinfo is not None else value


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return _utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def _prompt(run: Callable[[str], Answer], output: str) -> int:
    """Read statements (ending with `;`) until `.quit` or end of input; a failed one is reported and the
    prompt goes on."""
    readline: Any = None
    history = HISTORY_FILE.expanduser()
    with suppress(ImportError):
        import readline  # line editing and history where the platform has it

        with suppress(OSError):
            readline.read_history_file(history)
    print('mailjet-elt sql: end each statement with ";"; .tables lists the tables, .quit leaves', flush=True)
    pending: list[str] = []
    try:
        while True:
            try:
                line = input(MORE if pending else PROMPT)
            except EOFError:
                print()
                return 0
            except KeyboardInterrupt:
                print()
                pending = []
                continue
            stripped = line.strip()
            if not pending and stripped in (".quit", ".exit", "\\q"):
                return 0
            if not pending and stripped == ".tables":
                stripped = TABLES_QUERY + ";"
            if not stripped:
                continue
            pending.append(stripped)
            if not stripped.endswith(";"):
                continue
            text, pending = "\n".join(pending), []
            try:
                print(render(run(text), output), flush=True)
            except CommandError as exc:
                console().error(f"mailjet-elt sql: {exc}")
    finally:
        if readline is not None:
            with suppress(OSError):
                readline.write_history_file(history)


TABLES_QUERY = (
    "select table_schema as dataset, table_name as name, table_type as kind "
    "from information_schema.tables where table_schema not in ('information_schema', 'pg_catalog') "
    "and table_schema not like '%\\_staging' escape '\\' and table_name not like '\\_dlt%' escape '\\' "
    "order by 1, 2"
)
