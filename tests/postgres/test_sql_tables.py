"""`mailjet-elt sql .tables` on a warehouse: the tables and views of the project's datasets, read from the
engine's catalog as dlt reads it (the same on BigQuery and Snowflake, whose catalogs differ), without
dlt's own tables, the staging datasets or the rest of a team warehouse."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from pipelines.load import load
from pipelines.sql import run_sql
from tests.postgres.conftest import Database


def test_tables_lists_the_project_s_datasets_and_nothing_else(
    postgres: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    people = tmp_path / "profiles.csv"
    people.write_text("email,firstname\na@example.com,A\n")
    where = {"db": str(tmp_path / "unused.duckdb"), "destination": "postgres"}
    load(file=str(people), table="profiles", **where)
    postgres.rows("create table public.someone_elses (id int)")
    capsys.readouterr()

    assert run_sql(query=".tables", output="csv", **where) == 0

    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["dataset", "name", "kind"]
    listed = {(dataset, name): kind for dataset, name, kind in rows[1:]}
    assert listed[("crm", "profiles")] == "BASE TABLE"
    assert listed[("mailjet", "contacts")] == "VIEW"  # the views, published by the load
    assert not [key for key in listed if key[1].startswith("_dlt") or key[0].endswith("_staging")]
    assert ("public", "someone_elses") not in listed
    assert {dataset for dataset, _ in listed} <= {
        "mailjet",
        "mailjet_api",
        "mailjet_csv",
        "crm",
        "mailjet_matched",
        "mailjet_models",
        "mailjet_sync",
    }
