"""What `mailjet-elt sql` may do on a DuckDB file: read the database, and nothing else.

The file is opened read-only for each query; before any statement of the user runs, DuckDB's external
access is turned off (no file, no network, no extension to install or load) and its configuration
locked, so no statement can turn them back on. `--allow-files` lets local files be read (`read_csv`,
`read_parquet`, `read_json`, `from 'file.csv'`); DuckDB cannot tell reading a path from writing it, so
the statements that write files or other databases (COPY, EXPORT DATABASE, ATTACH, ...) are refused
before they run, whatever the option."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pipelines import models
from pipelines.errors import EXIT_FAILURE, EXIT_USAGE, CommandError
from pipelines.logs import console
from pipelines.warehouse.errors import WarehouseBusy, lock_holder
from pipelines.warehouse.paths import check_existing_duckdb, duckdb_path

READER_FOLDER = models.MODELS_FOLDER / "reader"
ALLOW_FILES = "--allow-files"
# Set when the file is opened, before any statement: extensions are neither fetched nor loaded on
# demand, and no secret is written to disk.
OPEN_CONFIG = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_persistent_secrets": False,
}
READ_ANSWER = (
    "`mailjet-elt sql` only reads the database: it never writes a file, another database or a setting"
)
READ_A_FILE = "read_csv('PATH') (or read_parquet, read_json) with --allow-files"

Refusal = tuple[str, str]  # what is refused, and what to do instead

REFUSED: dict[duckdb.StatementType, Refusal] = {
    duckdb.StatementType.COPY: (
        "COPY",
        f"to read a file, select from {READ_A_FILE}; to save an "
        "answer, redirect --format csv or json to a file",
    ),
    duckdb.StatementType.EXPORT: (
        "EXPORT DATABASE",
        "to save an answer, redirect --format csv or json to a file",
    ),
    duckdb.StatementType.COPY_DATABASE: ("COPY FROM DATABASE", "query the tables where they are"),
    duckdb.StatementType.ATTACH: ("ATTACH", "query another DuckDB file with mailjet-elt --db PATH sql"),
    duckdb.StatementType.LOAD: (
        "INSTALL or LOAD",
        "json, parquet and icu are built in; no other extension is installed or loaded",
    ),
    duckdb.StatementType.EXTENSION: ("extension statements", "no extension is installed or loaded"),
    duckdb.StatementType.PREPARE: ("PREPARE", "run the statement itself"),
    duckdb.StatementType.EXECUTE: ("EXECUTE", "run the statement itself"),
}
# Statements that run statements of their own, which the check above never sees (IMPORT DATABASE and COPY
# FROM DATABASE are pragmas; EXPLAIN ANALYZE runs what it explains): once files can be reached, they are
# refused too.
REFUSED_WITH_FILES: dict[duckdb.StatementType, Refusal] = {
    duckdb.StatementType.EXPLAIN: (
        "EXPLAIN with --allow-files",
        "leave out --allow-files to explain a query (EXPLAIN ANALYZE runs the statement it explains)",
    ),
    duckdb.StatementType.PRAGMA: (
        "PRAGMA with --allow-files",
        "use describe TABLE, show tables or select, or leave out --allow-files",
    ),
}


def check_statement(statement: duckdb.Statement, allow_files: bool) -> None:
    """Raise CommandError (exit 1) naming a statement that could write, and what to do instead."""
    refused = REFUSED.get(statement.type) or (REFUSED_WITH_FILES.get(statement.type) if allow_files else None)
    if refused is not None:
        what, instead = refused
        raise CommandError(f"{what} is refused: {READ_ANSWER}. Instead, {instead}", EXIT_FAILURE)


def explain(exc: duckdb.Error, allow_files: bool) -> str | None:
    """DuckDB's refusal of a statement, and what it means here (None for any other error)."""
    text = " ".join(line for line in str(exc).splitlines() if line.strip()).rstrip(".")
    if isinstance(exc, duckdb.PermissionException):
        if allow_files:
            return (
                f"{text}. Anything but reading a local file is refused: with {ALLOW_FILES}, `mailjet-elt "
                "sql` reads the database and local files, and reaches no network nor extension"
            )
        return (
            f"{text}. Access to files is refused: {READ_ANSWER}. To read local files (read_csv, "
            f"read_parquet, read_json), add {ALLOW_FILES} (writing stays refused)"
        )
    if isinstance(exc, duckdb.InvalidInputException) and "configuration has been locked" in text:
        return (
            f"{text}. Changing a setting is refused: {READ_ANSWER}, and its settings (no file, network "
            "or extension access) stay as they are"
        )
    return None


def existing_file(db: str) -> Path:
    """The DuckDB file `db` names, for a command that only reads it. CommandError (exit 2) when there is
    no such file, or it is not a DuckDB database."""
    path = duckdb_path(db)
    if not path.is_file():
        raise CommandError(
            f"no database at {path}: run `mailjet-elt extract` first, or name the file with --db PATH",
            EXIT_USAGE,
        )
    check_existing_duckdb(path, db)
    return path


@contextmanager
def read_only(
    path: Path, lock_wait: float, allow_files: bool, command: str = "sql"
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to `path`, external access off (local files readable with `allow_files`)
    and configuration locked; waits up to `lock_wait` seconds while a loading command writes (saying so
    as `mailjet-elt COMMAND`)."""
    con = _connect(path, lock_wait, command)
    try:
        for name in (
            *(["allow_local_files"] if allow_files else []),
            "no_external_access",
            "lock_configuration",
        ):
            con.execute(models.render(name, models.READ_DIALECT, folder=READER_FOLDER))
        yield con
    finally:
        con.close()


def _connect(path: Path, lock_wait: float, command: str) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + lock_wait
    told = False
    while True:
        try:
            return duckdb.connect(str(path), read_only=True, config=dict(OPEN_CONFIG))
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise CommandError(f"cannot open {path}: {first_line(exc)}", EXIT_FAILURE) from None
            if time.monotonic() >= deadline:
                raise WarehouseBusy(
                    f"{path} is being written by another process ({lock_holder(exc)}); waited "
                    f"{lock_wait:g} s. Query it once that command is done, or wait longer with --lock-wait"
                ) from None
            if not told:
                console().warning(
                    f"mailjet-elt {command}: {path} is being written; waiting up to {lock_wait:g} s"
                )
                told = True
            time.sleep(0.25)


def first_line(exc: BaseException) -> str:
    """An error's first lines (up to three), on one line."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines[:3]) if lines else type(exc).__name__
