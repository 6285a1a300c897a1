"""`csv_rejections` describes the latest import of each file; what an import does after its load, and
what a later command does for an import that was interrupted after loading."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime

from dlt.destinations.exceptions import DatabaseUndefinedRelation
from dlt.pipeline.pipeline import Pipeline

from sources.mailjet.schema import EXTRACTED_AT_COLUMN, SOURCE_COLUMN
from sources.mailjet_csv import CSV_REJECTIONS

# Tables an import writes rows to, each with the file's name in `_source` (rejections: in `file`).
IMPORT_TABLES = ("contacts", "contact_properties", "list_recipients")


def remove_old_rejections(pipeline: Pipeline, file_name: str, imported_at: datetime) -> None:
    """Drop the rejections of earlier imports of `file_name`."""
    with pipeline.sql_client() as client:
        table = client.make_qualified_table_name(CSV_REJECTIONS.name)
        with contextlib.suppress(DatabaseUndefinedRelation):  # no rejection was ever loaded
            client.execute_sql(
                f"delete from {table} where file = %s and {EXTRACTED_AT_COLUMN} <> %s", file_name, imported_at
            )


def import_landed(pipeline: Pipeline, file_name: str, imported_at: datetime) -> bool:
    """Whether any row of the import of `file_name` at `imported_at` is in the database."""
    with pipeline.sql_client() as client:
        checks = [
            (CSV_REJECTIONS.name, "file = %s", file_name),
            *((t, f"{SOURCE_COLUMN} = %s", f"csv:{file_name}") for t in IMPORT_TABLES),
        ]
        for table, condition, value in checks:
            name = client.make_qualified_table_name(table)
            with contextlib.suppress(DatabaseUndefinedRelation):
                rows = client.execute_sql(
                    f"select count(*) from {name} where {condition} and {EXTRACTED_AT_COLUMN} = %s",
                    value,
                    imported_at,
                )
                if rows and rows[0][0]:
                    return True
    return False


def finish_interrupted_import(pipeline: Pipeline, files: Sequence[tuple[str, str]]) -> int:
    """For each (file, import time) of an interrupted import whose rows landed, drop the rejections of
    the file's earlier imports. How many files were finished."""
    finished = 0
    for file_name, stamp in files:
        imported_at = datetime.fromisoformat(stamp)
        if import_landed(pipeline, file_name, imported_at):
            remove_old_rejections(pipeline, file_name, imported_at)
            finished += 1
    return finished
