"""Where the working state of a warehouse other than a DuckDB file lives: a folder of the project,
`.mailjet-elt/<destination>-<host>-<port>-<database>-<hash>/` beside `.dlt/`, one per warehouse, named
from dlt's resolved connection settings (never the user nor the password). It holds one dlt pipeline
folder per dataset (`mailjet_api/`, `mailjet_csv/`, `crm/`), the writer lock and the webhook spool; dlt's
global folder (`~/.dlt/pipelines`) is never used, so two warehouses on one host never share a lock or a
spool."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

STATE_ROOT = ".mailjet-elt"  # in dlt's local folder: the folder the commands run in, beside `.dlt/`
# The connection settings that tell one warehouse from another, as dlt's destinations name them: where
# (a host, Databricks's server, BigQuery's project, a bucket), the port, and the database (or catalog).
KEY_FIELDS = ("host", "server_hostname", "project_id", "bucket_url", "port", "database", "catalog")
MAX_NAME = 96  # characters of a folder's name, its hash included
HASH_CHARS = 10
_UNSAFE = re.compile(r"[^A-Za-z0-9._]+")


def folder_name(destination: str, settings: Mapping[str, object]) -> str:
    """The folder's name for a warehouse: the destination and its KEY_FIELDS' values, each reduced to
    letters, digits, `.` and `_` and joined by `-`, then a hash of the exact values, so that two
    warehouses never share a name (however their values read once reduced or cut short)."""
    named = {f: str(settings[f]) for f in KEY_FIELDS if settings.get(f) not in (None, "")}
    parts = [destination, *named.values()]
    readable = "-".join(_UNSAFE.sub("_", part).strip("_.") or "_" for part in parts)
    exact = "\x00".join([destination, *(f"{f}={v}" for f, v in named.items())])
    digest = hashlib.sha256(exact.encode()).hexdigest()[:HASH_CHARS]
    return f"{readable[: MAX_NAME - HASH_CHARS - 1]}-{digest}"


def warehouse_folder(destination: str) -> Path:
    """The folder of the warehouse dlt's configuration names for `destination`. Raises dlt's
    ConfigFieldMissingException when its connection settings are incomplete (the password included: a
    folder is never named after settings that cannot connect), WarehouseError for an unknown destination or
    a driver that is not installed."""
    import dlt
    from dlt.common.destination import Destination
    from dlt.common.destination.exceptions import UnknownDestinationModule

    from pipelines.warehouse.errors import WarehouseError
    from pipelines.warehouse.names import API_DATASET

    try:
        factory = Destination.from_reference(destination)
    except UnknownDestinationModule:
        factory = None
    if factory is None:
        raise WarehouseError(
            f"--destination {destination}: dlt has no destination of that name; use one of dlt's "
            "(postgres, bigquery, snowflake, ...) or leave it out for DuckDB at --db"
        )
    try:
        factory.client_class  # noqa: B018  # imports the destination's driver now
    except ImportError as exc:
        package = exc.name or "of its driver"
        extra = f"dlt[{destination}]=={dlt.__version__}"
        raise WarehouseError(
            f"--destination {destination} needs the Python package {package}, which is not installed. "
            f'Install it with: .venv/bin/pip install "{extra}"'
        ) from None
    config = factory.configuration(factory.spec(), accept_partial=True)
    credentials = getattr(config, "credentials", None)
    if credentials is not None and not credentials.is_resolved():
        # Resolved again, strictly, for the error that names the missing settings.
        strict: Any = factory.spec()
        if hasattr(strict, "_bind_dataset_name"):
            strict._bind_dataset_name(dataset_name=API_DATASET)
        factory.configuration(strict)
    settings = {f: getattr(credentials, f, None) for f in KEY_FIELDS}
    settings["bucket_url"] = getattr(config, "bucket_url", None)
    local = Path(dlt.current.run_context().local_dir)
    return local.resolve() / STATE_ROOT / folder_name(factory.destination_name, settings)
