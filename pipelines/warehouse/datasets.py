"""The warehouse's datasets: one per raw layer, the user's own data, and the views over them."""

from __future__ import annotations

from sources.mailjet import schema
from sources.mailjet_csv.tables import CSV_TABLES

API_DATASET = "mailjet_api"
CSV_DATASET = "mailjet_csv"
CRM_DATASET = "crm"  # the user's own data (`mailjet-elt load`)
VIEWS_DATASET = "mailjet"
MATCHED_DATASET = "mailjet_matched"
# The layers commands load, each by a dlt pipeline of the same name.
LAYERS = (API_DATASET, CSV_DATASET, CRM_DATASET)
# The raw tables the views read, by layer.
RAW_TABLES: dict[str, dict[str, schema.Table]] = {
    "api": {t.name: t for t in (*schema.API_TABLES, *schema.RECEIVED_TABLES)},
    "csv": {t.name: t for t in CSV_TABLES},
}
LAYER_DATASETS = {"api": API_DATASET, "csv": CSV_DATASET}
