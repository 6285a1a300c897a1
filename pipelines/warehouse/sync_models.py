"""The analysts' models that read the sync's audit trail (`mailjet_sync`), published again by `plan` once it
has created the sync's tables: until then, every load publishes them over empty stand-ins (publish.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dlt.destinations.exceptions import DatabaseException
from sqlglot import exp

from pipelines.models import dialect_of, statement
from pipelines.sync.tables import SYNC_DATASET
from pipelines.warehouse.datasets import MODELS_DATASET
from pipelines.warehouse.publish import (
    ANALYTICS_FOLDER,
    existing_tables,
    model_names,
    model_sql,
    publish_models,
    relations,
)

if TYPE_CHECKING:
    from dlt.destinations.sql_client import SqlClientBase


def sync_models() -> list[str]:
    """The models that read the sync's audit trail (`mailjet_sync`), in the order they read each other."""
    return [
        name
        for name in model_names()
        if any(t.db == SYNC_DATASET for t in statement(name, ANALYTICS_FOLDER).find_all(exp.Table))
    ]


def publish_sync_models(client: SqlClientBase[Any]) -> None:
    """Replace in place the published models that read `mailjet_sync`, once `plan` has created its tables:
    until then they read empty stand-ins. Nothing when no load has published the models yet."""
    present = relations(client, MODELS_DATASET)
    names = [name for name in sync_models() if name in present]
    if not names:
        return
    existing = existing_tables(client)
    dialect = dialect_of(client)
    with client.begin_transaction():
        publish_models(client, {name: model_sql(name, dialect, existing) for name in names}, set(names))


def refresh_sync_models(client: SqlClientBase[Any]) -> str | None:
    """`publish_sync_models`, for `plan`, which must not fail on it: when the engine will not replace a
    model in place (an earlier version's shape, under a user's view), the model keeps what it read until
    the next load publishes it, and this says why; None when it was replaced."""
    try:
        publish_sync_models(client)
    except DatabaseException as exc:
        told = " ".join(line.strip() for line in str(exc).strip().splitlines()[:2])
        return (
            f"the models over the sync's tables ({', '.join(sync_models())}) could not be brought up to "
            f"date ({told}); the next extract or import-csv publishes them"
        )
    return None
