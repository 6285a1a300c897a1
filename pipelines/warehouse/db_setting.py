"""The `[mailjet_elt]` settings, resolved through dlt's providers (`MAILJET_ELT__DB`, `.dlt/config.toml`):
the DuckDB file of the commands not given `--db`. Imported only by such a command (it imports dlt)."""

from __future__ import annotations

from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.exceptions import ConfigurationException
from dlt.common.configuration.providers.toml import TomlProviderReadException
from dlt.common.configuration.specs import BaseConfiguration

from pipelines.settings import DB_SETTING_WHERE
from pipelines.warehouse.errors import WarehouseError

SECTION = "mailjet_elt"


@configspec
class ProjectConfiguration(BaseConfiguration):
    """`[mailjet_elt]`: the settings of the commands themselves."""

    db: str | None = None
    """The DuckDB file of every command not given --db (a relative path is taken from the folder the
    command runs in); unset: ./mailjet_elt.duckdb."""


def configured_db() -> str | None:
    """The `db` setting, or None when it is not set; WarehouseError (exit 2) when the settings cannot be
    read."""
    try:
        return resolve_configuration(ProjectConfiguration(), sections=(SECTION,)).db
    except TomlProviderReadException:
        raise  # a settings file that is not TOML: named as such, whichever setting was read first
    except ConfigurationException as exc:
        raise WarehouseError(f"the db setting ({DB_SETTING_WHERE}) cannot be read: {exc}") from None
