"""The analysts' models on PostgreSQL: published by the extract, through the same SQL path as on DuckDB, and
reading the same figures as on DuckDB from the same sandbox, day boundaries in UTC whatever the session's
time zone (the figures themselves are checked against the sandbox in tests/pipelines/test_models.py)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.extract import extract
from pipelines.report_html import figures_of
from pipelines.warehouse import open_pipeline
from pipelines.warehouse.publish import (
    ViewChangeError,
    model_names,
    publish_views,
)
from pipelines.warehouse.sync_models import refresh_sync_models, sync_models
from tests.conftest import Api, start
from tests.postgres.conftest import Database
from tests.sources.conftest import point_at

# A team's server keeps its office's time zone: a day in UTC is not the session's day there.
SERVER_ZONE = "Pacific/Auckland"
# Columns that are the extract's own time: the two extracts ran a moment apart.
EXTRACT_TIME = {("contact_engagement", "as_of")}


def _plain(row: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """A row's values as plain numbers (Postgres sums to numeric), floats rounded."""
    return [(k, round(float(v), 12) if isinstance(v, float | Decimal) else v) for k, v in row]


def rounded(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows sorted, floats rounded (the engines' last digits of a division may differ)."""
    return sorted((tuple(round(v, 12) if isinstance(v, float) else v for v in r) for r in rows), key=repr)


def test_the_models_read_the_same_on_postgres_as_on_duckdb(
    postgres: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    app = start(contacts=60, messages=600)
    try:
        api = Api(app)
        api.admin("POST", "engagement", {"spam": 3, "unsubs": 2, "seed": 5})
        point_at(api, monkeypatch)
        postgres.rows(f"alter database {postgres.name} set timezone = '{SERVER_ZONE}'")
        db = tmp_path / "mj.duckdb"
        extract(db=str(db))
        extract(db=str(tmp_path / "unused.duckdb"), destination="postgres")
    finally:
        app.stop()
    assert postgres.rows("show timezone") == [(SERVER_ZONE,)]
    with duckdb.connect(str(db), read_only=True) as con:
        for name in model_names():
            shown = con.sql(f"select * from mailjet_models.{name} limit 0").columns
            columns = ", ".join(c for c in shown if (name, c) not in EXTRACT_TIME)
            on_duckdb = rounded(con.sql(f"select {columns} from mailjet_models.{name}").fetchall())
            on_postgres = rounded(postgres.rows(f"select {columns} from mailjet_models.{name}"))
            assert on_postgres == on_duckdb, name
            assert on_duckdb or name in sync_models(), name  # the sync's: empty before any plan
    # The HTML report's figures, read by its statements on each engine, are the same too.
    on_duckdb_figures = figures_of(db=str(db))
    on_postgres_figures = figures_of(db=str(tmp_path / "unused.duckdb"), destination="postgres")
    for name, rows in on_duckdb_figures.items():
        shown = [[(k, v) for k, v in r.items() if (name, k) != ("tiers", "as_of")] for r in rows]
        there = [
            [(k, v) for k, v in r.items() if (name, k) != ("tiers", "as_of")]
            for r in on_postgres_figures[name]
        ]
        assert [_plain(r) for r in there] == [_plain(r) for r in shown], name
        assert rows or name == "sync", name


def test_a_model_is_replaced_in_place_and_never_dropped_from_under_a_users_view(
    postgres: Database, tmp_path: Path
) -> None:
    pipeline = open_pipeline(db=str(tmp_path / "unused.duckdb"), destination="postgres")
    with pipeline.sql_client() as client:
        publish_views(client)  # as every load does: no raw table yet, every view and model over empty ones
        postgres.rows("create schema analytics")
        postgres.rows(
            "create view analytics.sent as select campaign_id, sent from mailjet_models.campaign_performance"
        )
        # `deliverability_spam` as an earlier version might have shaped it, and a user's view over that shape.
        postgres.rows("drop view mailjet_models.deliverability_spam")
        postgres.rows(
            "create view mailjet_models.deliverability_spam as "
            "select 1::bigint as campaign_id, 'x' as old_column"
        )
        postgres.rows(
            "create view analytics.old as select old_column from mailjet_models.deliverability_spam"
        )

        with pytest.raises(ViewChangeError) as refused:
            publish_views(client)
        message = str(refused.value)
        assert "mailjet_models.deliverability_spam (campaign_id, old_column) changes its columns" in message
        assert "analytics.old" in message
        assert postgres.rows("select old_column from analytics.old") == [("x",)]  # untouched, still read

        postgres.rows("drop view analytics.old")
        publish_views(client)
    assert postgres.rows("select count(*) from analytics.sent") == [(0,)]  # replaced in place: still read
    columns = postgres.rows(
        "select column_name from information_schema.columns where table_schema = 'mailjet_models' "
        "and table_name = 'deliverability_spam' order by ordinal_position"
    )
    assert [c[0] for c in columns] == ["campaign_id", "delivered", "spam_reports", "spam_rate"]


def test_a_model_over_the_sync_an_engine_will_not_replace_never_fails_the_plan(
    postgres: Database, tmp_path: Path
) -> None:
    """`plan` brings the models over `mailjet_sync` up to date; when Postgres refuses (an earlier shape of
    one under a user's view), the plan goes on, says why, and the user's view is untouched."""
    pipeline = open_pipeline(db=str(tmp_path / "unused.duckdb"), destination="postgres")
    with pipeline.sql_client() as client:
        publish_views(client)
        postgres.rows("drop view mailjet_models.sync_history")
        postgres.rows("create view mailjet_models.sync_history as select 'x' as old_column")
        postgres.rows("create schema analytics")
        postgres.rows(
            "create view analytics.old_history as select old_column from mailjet_models.sync_history"
        )
        told = refresh_sync_models(client)
        assert told is not None and "the next extract or import-csv publishes them" in told
        assert postgres.rows("select old_column from analytics.old_history") == [("x",)]
        postgres.rows("drop view analytics.old_history")
        publish_views(client)  # the next load, as the warning says
        assert refresh_sync_models(client) is None
    assert postgres.rows("select count(*) from mailjet_models.sync_history") == [(0,)]
