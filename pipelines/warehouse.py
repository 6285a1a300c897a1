"""The dlt pipeline every command loads through: DuckDB at `--db` by default, or any dlt destination."""

from __future__ import annotations

from pathlib import Path

import dlt
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.pipeline.pipeline import Pipeline

PIPELINE_NAME = "mailjet_elt"
DATASET = "mailjet"
DEFAULT_DB = "mailjet_elt.duckdb"
# Merges of millions of rows: cap DuckDB's buffer memory (it spills to disk beyond it) so the extract's
# memory stays flat as the account grows; insertion order is meaningless for these tables.
DUCKDB_SETTINGS = {"memory_limit": "256MB", "preserve_insertion_order": False}


class WarehouseError(Exception):
    """A database or destination choice that cannot work; the message names the fix."""


def open_pipeline(db: str = DEFAULT_DB, destination: str | None = None) -> Pipeline:
    """The pipeline writing dataset `mailjet`. With DuckDB its working state sits beside the database
    file (`.<file>.dlt/`), so two databases never share cursors; other destinations take their
    credentials from dlt's usual config (e.g. DESTINATION__POSTGRES__CREDENTIALS)."""
    # Scheduled runs must not grow the disk: drop each load's files once loaded, and empty the staging
    # tables merges go through (otherwise a second copy of every merged table stays in the database).
    dlt.config["load.delete_completed_jobs"] = True
    dlt.config["load.truncate_staging_dataset"] = True
    if destination in (None, "duckdb"):
        path = Path(db).expanduser().resolve()
        if path.stem == DATASET:
            # DuckDB names the catalog after the file: `mailjet.contacts` would be ambiguous.
            raise WarehouseError(
                f"--db {db}: DuckDB names a database after its file, and `{path.stem}` is also the "
                f"dataset's name, so `{DATASET}.contacts` would be ambiguous. Choose another file name, "
                f"e.g. --db {path.with_name(DEFAULT_DB)}"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        credentials = DuckDbCredentials(str(path), global_config=dict(DUCKDB_SETTINGS))
        return dlt.pipeline(
            pipeline_name=PIPELINE_NAME,
            destination=dlt.destinations.duckdb(credentials),
            dataset_name=DATASET,
            pipelines_dir=str(path.parent / f".{path.name}.dlt"),
        )
    return dlt.pipeline(pipeline_name=PIPELINE_NAME, destination=destination, dataset_name=DATASET)
