"""Where a command's DuckDB database and its working folder are, and whether a file can be one: plain path
logic, light to import (dlt only for a destination other than DuckDB, or to read the `db` setting), so that
reading commands start fast."""

from __future__ import annotations

from pathlib import Path

from pipelines.settings import DB_SETTING_WHERE, DEFAULT_DB
from pipelines.warehouse.errors import WarehouseError
from pipelines.warehouse.names import LAYERS, MATCHED_DATASET, MODELS_DATASET, VIEWS_DATASET


def duckdb_path(db: str, setting: bool = False) -> Path:
    """The database file `--db` names (`setting`: the `db` setting names); raises WarehouseError for a
    path that cannot be one."""
    named = _named(db, setting)
    if not db.strip():
        raise WarehouseError(
            f"{_named('', setting)} is empty: name a database file, e.g. {_example(DEFAULT_DB, setting)}"
        )
    path = Path(db).expanduser().resolve()
    if path.is_dir():
        example = _example(str(path / DEFAULT_DB), setting)
        raise WarehouseError(f"{named} is a directory: name a database file in it, e.g. {example}")
    if path.exists() and not path.is_file():
        raise WarehouseError(
            f"{named} is not a regular file (a device, pipe or socket): name a DuckDB database file, "
            f"e.g. {_example(DEFAULT_DB, setting)}"
        )
    if path.stem in (VIEWS_DATASET, MATCHED_DATASET, MODELS_DATASET, *LAYERS):
        # DuckDB names the catalog after the file: `mailjet.contacts` would be ambiguous.
        raise WarehouseError(
            f"{named}: DuckDB names a database after its file, and `{path.stem}` is also a dataset's name, "
            f"so `{path.stem}.contacts` would be ambiguous. Choose another file name, e.g. "
            f"{_example(str(path.with_name(DEFAULT_DB)), setting)}"
        )
    return path


def _named(db: str, setting: bool) -> str:
    """How a message names the value: as `--db` or as the setting, saying where that is set."""
    if setting:
        return f"the db setting{f' {db!r}' if db else ''} ({DB_SETTING_WHERE})"
    return f"--db {db}".rstrip()


def _example(db: str, setting: bool) -> str:
    """A value that works, as the user would give it."""
    return f'db = "{db}" under [mailjet_elt]' if setting else f"--db {db}"


def database_file(given: str | None, destination: str | None) -> str:
    """The DuckDB file of a command: `--db` when given; else the `db` setting, read through dlt's providers
    (so dlt is imported only then) and checked as `--db` would be; else ./mailjet_elt.duckdb. With another
    destination the file is not used, and the setting not read; `--db` given with it is a mistake."""
    if given is not None and not is_duckdb_file(destination):
        raise WarehouseError(
            f"--db {given} names a DuckDB file, but --destination {destination} writes to that destination, "
            f"whose own settings name its database ([destination.{destination}] credentials): drop --db"
        )
    if given is not None or not is_duckdb_file(destination):
        return DEFAULT_DB if given is None else given
    from pipelines.warehouse.db_setting import configured_db

    configured = configured_db()
    if configured is None:
        return DEFAULT_DB
    duckdb_path(configured, setting=True)
    return configured


def is_duckdb_file(destination: str | None) -> bool:
    """Whether the commands write the DuckDB file at `--db` (no `--destination`, or `duckdb`)."""
    return destination in (None, "duckdb")


def require_database(db: str, destination: str | None, command: str) -> None:
    """Raise WarehouseError (exit 2) when `command` would read a DuckDB file that does not exist yet: it
    has nothing to read there, and must not create it."""
    if is_duckdb_file(destination) and not duckdb_path(db).is_file():
        steps = ", then plan" if command == "apply" else ""
        raise WarehouseError(
            f"--db {db}: no database there yet. Run `mailjet-elt extract` first (and `mailjet-elt load` for "
            f"the CRM tables your audiences read){steps}, then {command}"
        )


def pipelines_dir(db: str, destination: str | None) -> Path:
    """Where the pipelines' working state, the writer lock and the webhook spool live: beside the DuckDB
    file (`.<file>.dlt/`), or in the project's folder of the warehouse (pipelines.warehouse.location, which
    reads dlt's configuration: imported only then)."""
    if is_duckdb_file(destination):
        path = duckdb_path(db)
        return path.parent / f".{path.name}.dlt"
    from pipelines.warehouse.location import warehouse_folder

    assert destination is not None
    return warehouse_folder(destination)


DUCKDB_MAGIC = (8, b"DUCK")  # where DuckDB's file header holds its magic bytes


def check_existing_duckdb(path: Path, db: str) -> None:
    """Refuse a file that exists and is not a DuckDB database, from its header alone: opening it, even
    read-only, would make this process a reader that a running writer could trip over."""
    if not path.is_file():
        return
    offset, magic = DUCKDB_MAGIC
    try:
        with path.open("rb") as head:
            head.seek(offset)
            found = head.read(len(magic))
    except OSError as exc:
        raise WarehouseError(
            f"--db {db}: cannot read {path} ({exc.strerror}); check its permissions"
        ) from None
    if found != magic:
        raise WarehouseError(
            f"--db {db}: {path} is not a DuckDB database (its first bytes are not a DuckDB header). Point "
            "--db at a DuckDB file, or at a new path to create one"
        )
