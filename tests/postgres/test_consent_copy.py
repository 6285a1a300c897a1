"""The plan's copy of `consent_current` on PostgreSQL: a plan must read from it what it read from the views
(warehouses written by the commands or by hand, no sandbox)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.import_csv import import_csv
from pipelines.load import load
from pipelines.plan import plan
from pipelines.sync.audiences import Audience
from pipelines.sync.config import SyncConfiguration
from pipelines.sync.plan import plan_with
from pipelines.sync.tables import create_tables
from pipelines.warehouse import open_pipeline
from pipelines.warehouse.datasets import API_DATASET
from pipelines.warehouse.publish import publish_views
from tests.postgres.conftest import Database

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def test_a_warehouse_no_extract_loaded_yet_is_planned(postgres: Database, tmp_path: Path) -> None:
    """Mailjet's data from an exported file only (import-csv), the CRM's loaded: `mailjet_api.contacts`
    does not exist, and reading when it was extracted fails; dlt's Postgres client then resets the session
    (psycopg2's `reset()` is `DISCARD ALL`), which drops the plan's temporary copy of consent_current
    before any audience reads it."""
    where: dict[str, Any] = {"db": str(tmp_path / "unused.duckdb"), "destination": "postgres"}
    import_csv(files=[str(EXAMPLES / "newsletter.csv")], list_ref="Newsletter", progress=False, **where)
    load(file=str(EXAMPLES / "profiles.csv"), table="profiles", **where)
    load(file=str(EXAMPLES / "consent.csv"), table="consent_events", **where)
    result = plan(config=SyncConfiguration(), **where)
    assert [p.audience for p in result.plans] == ["newsletter", "service"]
    assert result.plans[0].audience_rows > 0


def test_a_view_naming_its_address_column_in_capitals_is_read(postgres: Database, tmp_path: Path) -> None:
    """A view yielding its address as a quoted "Email" (PostgreSQL keeps the case of a quoted name) was read
    through the view; read by its query, every `email` column inside it is renamed "Email" too, and the
    table it reads has no such column."""
    pipeline = open_pipeline(str(tmp_path / "unused.duckdb"), "postgres", API_DATASET)
    with pipeline.sql_client() as client:
        publish_views(client)
        create_tables(client)
    postgres.rows("create schema crm")
    postgres.rows("create table crm.profiles (email text)")
    postgres.rows("insert into crm.profiles values ('ann@x.com')")
    # and Mailjet's tables of a first extract (when it ran), so that nothing the plan reads fails
    postgres.rows("create schema mailjet_api")
    for name in ("contacts", "list_recipients"):
        postgres.rows(f"create table mailjet_api.{name} (_extracted_at timestamptz)")
        postgres.rows(f"insert into mailjet_api.{name} values (now())")
    sql = 'create or replace view audience_news as select p.email as "Email" from crm.profiles p'
    item = Audience("news", "Newsletter", "keep", (), sql, 1)
    with pipeline.sql_client() as client:
        [news] = plan_with(client, [item], [item], tmp_path / "audiences.sql", SyncConfiguration(), NOW)
    assert news.count("addnoforce") == 1
