"""The warehouse's datasets: one per raw layer, the user's own data, and the views over them."""

from __future__ import annotations

from pipelines.warehouse.names import (
    API_DATASET,
    CRM_DATASET,
    CSV_DATASET,
    LAYER_DATASETS,
    LAYERS,
    MATCHED_DATASET,
    MODELS_DATASET,
    VIEWS_DATASET,
)
from sources.mailjet import schema
from sources.mailjet_csv.tables import CSV_TABLES

# The raw tables the views read, by layer.
RAW_TABLES: dict[str, dict[str, schema.Table]] = {
    "api": {t.name: t for t in (*schema.API_TABLES, *schema.RECEIVED_TABLES)},
    "csv": {t.name: t for t in CSV_TABLES},
}
__all__ = [
    "API_DATASET",
    "CRM_DATASET",
    "CSV_DATASET",
    "LAYERS",
    "LAYER_DATASETS",
    "MATCHED_DATASET",
    "MODELS_DATASET",
    "RAW_TABLES",
    "VIEWS_DATASET",
]
