"""Defaults of the CLI that must be known before anything heavy is imported."""

from __future__ import annotations

from typing import Final

DEFAULT_DB: Final = "mailjet_elt.duckdb"
# Where the `db` setting is given (pipelines/warehouse/db_setting.py): the DuckDB file of the commands not
# given --db.
DB_SETTING_WHERE: Final = "MAILJET_ELT__DB or db under [mailjet_elt] in .dlt/config.toml"
# How long a loading command waits for another one (or a DuckDB reader) holding the same database.
DEFAULT_LOCK_WAIT_SECONDS: Final = 60.0
# The import's staging database, in the pipeline's working folder; removed after each import, and by
# the next loading command when an import was killed.
CSV_STAGING_FOLDER: Final = "csv-staging"
