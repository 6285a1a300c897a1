"""What the commands need of a destination, checked when its pipeline is opened: before any request to
Mailjet, any load, any lock on its data. Every command keeps the layers in SQL (the `mailjet` views, the
sync's tables), so a destination must run SQL through dlt's SQL job client, replace a table in one
transaction (readers never see it empty or half loaded), and let a view read the tables of other datasets.
A destination that cannot is refused with exit 2 and the names of what works, never after a failed load
that would block every later command."""

from __future__ import annotations

from dlt.common.destination.capabilities import DestinationCapabilitiesContext
from dlt.pipeline.pipeline import Pipeline

from pipelines.errors import EXIT_USAGE, CommandError

# A table replaced through the staging dataset, in one transaction (pipelines/warehouse/database.py).
REPLACE_STRATEGY = "insert-from-staging"
# Engines (as sqlglot names their dialect) that lack what sqlglot cannot write for them: SQLite keeps each
# dlt dataset in a database file of its own (dlt attaches one per dataset), and a view stored in one file
# cannot read the tables of another, so the `mailjet` views over `mailjet_api` and `mailjet_csv` cannot
# exist there.
NO_VIEWS_ACROSS_DATASETS = frozenset({"sqlite"})
WHAT_WORKS = (
    "Use DuckDB (the default: a file at --db PATH) or PostgreSQL (--destination postgres); to land "
    "Mailjet's tables in another dlt destination, run `mailjet_source()` in your own dlt pipeline "
    '(docs/warehouses.md, "In your own dlt pipeline")'
)


class DestinationRefused(CommandError):
    """A destination the commands cannot keep their SQL layers in (exit 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_USAGE)


def refusal(destination: str, runs_sql: bool, capabilities: DestinationCapabilitiesContext) -> str | None:
    """Why the commands cannot use `destination`, from what dlt says of it (whether its job client runs
    SQL, its capabilities); None when they can."""
    if not runs_sql:
        return (
            f"--destination {destination}: dlt's {destination} destination writes files and runs no SQL, "
            "and every command keeps its layers in SQL (the `mailjet` views, the sync's plan and audit "
            f"trail). Nothing was read or written. {WHAT_WORKS}"
        )
    if REPLACE_STRATEGY not in (capabilities.supported_replace_strategies or ()):
        return (
            f"--destination {destination}: it cannot replace a table in one transaction (dlt's "
            f"`{REPLACE_STRATEGY}`), so readers would see full-refresh tables empty or half loaded. "
            f"Nothing was read or written. {WHAT_WORKS}"
        )
    dialect = capabilities.sqlglot_dialect
    if dialect in NO_VIEWS_ACROSS_DATASETS:
        return (
            f"--destination {destination} on {dialect}: each dataset is a database file of its own there, "
            "and a view cannot read another file's tables, so the `mailjet` views over `mailjet_api` and "
            f"`mailjet_csv` cannot exist. Nothing was read or written. {WHAT_WORKS}"
        )
    return None


def check_destination(pipeline: Pipeline, destination: str) -> None:
    """Raise DestinationRefused when the commands cannot keep their layers in the pipeline's destination.
    Missing credentials raise dlt's own error (pipelines/warehouse/failures.py says which setting)."""
    from dlt.destinations.job_client_impl import SqlJobClientBase

    runs_sql = issubclass(pipeline.destination.client_class, SqlJobClientBase)
    capabilities = pipeline.destination.capabilities()
    if runs_sql and capabilities.sqlglot_dialect is None:
        # The engine behind a generic destination (SQLAlchemy's) is known once its credentials are read.
        capabilities = pipeline.destination_client().capabilities
    told = refusal(destination, runs_sql, capabilities)
    if told is not None:
        raise DestinationRefused(told)
