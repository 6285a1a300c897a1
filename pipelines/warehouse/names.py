"""The names of the warehouse's datasets: one per raw layer, the user's own data, the views over them and
the analysts' models over the views (light to import: no dlt, no schema)."""

from __future__ import annotations

API_DATASET = "mailjet_api"
CSV_DATASET = "mailjet_csv"
CRM_DATASET = "crm"  # the user's own data (`mailjet-elt load`)
VIEWS_DATASET = "mailjet"
MATCHED_DATASET = "mailjet_matched"
MODELS_DATASET = "mailjet_models"  # the analysts' models, views over `mailjet`
SYNC_DATASET = "mailjet_sync"  # the sync's plans, changelog and consent views
# The layers commands load, each by a dlt pipeline of the same name.
LAYERS = (API_DATASET, CSV_DATASET, CRM_DATASET)
LAYER_DATASETS = {"api": API_DATASET, "csv": CSV_DATASET}
