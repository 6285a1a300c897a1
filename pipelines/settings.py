"""Defaults of the CLI that must be known before anything heavy is imported."""

from __future__ import annotations

from typing import Final

DEFAULT_DB: Final = "mailjet_elt.duckdb"
# How long a loading command waits for another one (or a DuckDB reader) holding the same database.
DEFAULT_LOCK_WAIT_SECONDS: Final = 60.0
