"""The warehouse: the DuckDB file (or dlt destination) commands load into, one dlt pipeline per raw layer,
the one-writer lock, resuming an interrupted run, publishing the `mailjet` views, and Arrow helpers.

Loading commands go through `writing()` (pipelines.warehouse.writing); readers open a pipeline with
`open_pipeline()`. Each name here is imported from its module when first used, so that a command reading a
DuckDB file (`sql`) does not import dlt. (`writing` and `resume` are imported from their modules, which
bear the same names.)"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipelines.warehouse.database import open_pipeline
    from pipelines.warehouse.datasets import RAW_TABLES
    from pipelines.warehouse.errors import (
        ResumeFailed,
        WarehouseBusy,
        WarehouseError,
        lock_holder,
        raise_if_busy,
    )
    from pipelines.warehouse.names import (
        API_DATASET,
        CRM_DATASET,
        CSV_DATASET,
        MATCHED_DATASET,
        VIEWS_DATASET,
    )
    from pipelines.warehouse.paths import check_existing_duckdb, duckdb_path, pipelines_dir
    from pipelines.warehouse.publish import publish_views
    from pipelines.warehouse.writing import Warehouse, holding

# name -> the module that defines it
_HOMES = {
    "open_pipeline": "database",
    "ResumeFailed": "errors",
    "WarehouseBusy": "errors",
    "WarehouseError": "errors",
    "lock_holder": "errors",
    "raise_if_busy": "errors",
    "API_DATASET": "names",
    "CRM_DATASET": "names",
    "CSV_DATASET": "names",
    "MATCHED_DATASET": "names",
    "VIEWS_DATASET": "names",
    "RAW_TABLES": "datasets",
    "check_existing_duckdb": "paths",
    "duckdb_path": "paths",
    "pipelines_dir": "paths",
    "publish_views": "publish",
    "Warehouse": "writing",
    "holding": "writing",
}
__all__ = [
    "API_DATASET",
    "CRM_DATASET",
    "CSV_DATASET",
    "MATCHED_DATASET",
    "RAW_TABLES",
    "VIEWS_DATASET",
    "ResumeFailed",
    "Warehouse",
    "WarehouseBusy",
    "WarehouseError",
    "check_existing_duckdb",
    "duckdb_path",
    "holding",
    "lock_holder",
    "open_pipeline",
    "pipelines_dir",
    "publish_views",
    "raise_if_busy",
]


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
