"""The warehouse: the DuckDB file (or dlt destination) commands load into, one dlt pipeline per raw layer,
the one-writer lock, resuming an interrupted run, publishing the `mailjet` views, and Arrow helpers.

Loading commands go through `writing()`; readers open a pipeline with `open_pipeline()`."""

from pipelines.warehouse.database import (
    check_existing_duckdb,
    duckdb_path,
    open_pipeline,
    pipelines_dir,
)
from pipelines.warehouse.datasets import (
    API_DATASET,
    CRM_DATASET,
    CSV_DATASET,
    MATCHED_DATASET,
    RAW_TABLES,
    VIEWS_DATASET,
)
from pipelines.warehouse.errors import (
    ResumeFailed,
    WarehouseBusy,
    WarehouseError,
    lock_holder,
    raise_if_busy,
)
from pipelines.warehouse.publish import publish_views
from pipelines.warehouse.resume import resume
from pipelines.warehouse.writing import Warehouse, holding, writing

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
    "resume",
    "writing",
]
