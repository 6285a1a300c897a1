"""One set of rows per file and list in `mailjet_csv`: once an import's rows are loaded, the rows of the
earlier import of the same file name with the same `--list` go. What an import does after its load,
and what a later command does for an import that was interrupted after loading."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime

from dlt.destinations.exceptions import DatabaseUndefinedRelation
from dlt.pipeline.pipeline import Pipeline

from sources.mailjet_csv.tables import CSV_IMPORTS, CSV_TABLES, IMPORTED_AT_COLUMN

# One interrupted import of one file: (file name, --list as given or None, import time in ISO 8601).
ImportKey = tuple[str, str | None, str]


def remove_superseded(
    pipeline: Pipeline, file_name: str, list_ref: str | None, imported_at: datetime
) -> None:
    """Drop, from every table, the rows earlier imports of `file_name` with the same `--list` loaded.
    One transaction."""
    same_list = "list_ref = %s" if list_ref is not None else "list_ref is null"
    args: list[object] = [file_name, imported_at, *([list_ref] if list_ref is not None else [])]
    with pipeline.sql_client() as client, client.begin_transaction():
        for table in CSV_TABLES:
            name = client.make_qualified_table_name(table.name)
            condition = f"file = %s and {IMPORTED_AT_COLUMN} <> %s and {same_list}"
            with contextlib.suppress(DatabaseUndefinedRelation):  # nothing was ever loaded there
                client.execute_sql(f"delete from {name} where {condition}", *args)


def import_landed(pipeline: Pipeline, file_name: str, imported_at: datetime) -> bool:
    """Whether the import of `file_name` at `imported_at` is in the database (its `imports` row is loaded
    with the rest of its rows)."""
    with pipeline.sql_client() as client:
        name = client.make_qualified_table_name(CSV_IMPORTS.name)
        with contextlib.suppress(DatabaseUndefinedRelation):
            rows = client.execute_sql(
                f"select count(*) from {name} where file = %s and {IMPORTED_AT_COLUMN} = %s",
                file_name,
                imported_at,
            )
            return bool(rows and rows[0][0])
    return False


def finish_interrupted_import(pipeline: Pipeline, imports: Sequence[ImportKey]) -> int:
    """For each import of an interrupted `import-csv` whose rows landed, drop what the file's earlier
    imports loaded. How many files were finished."""
    finished = 0
    for file_name, list_ref, stamp in imports:
        imported_at = datetime.fromisoformat(stamp)
        if import_landed(pipeline, file_name, imported_at):
            remove_superseded(pipeline, file_name, list_ref, imported_at)
            finished += 1
    return finished
