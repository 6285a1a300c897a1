"""Views that outlive every load: a user's own view over `mailjet.*`, and the sync's, keep working while the
loads publish the `mailjet` views again (on DuckDB and on Postgres, which refuses to drop a view that another
view reads). Every command on Postgres, compared with DuckDB: test_every_command.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dlt
import duckdb
import pytest

from pipelines.errors import EXIT_USAGE, CommandError
from pipelines.extract import extract
from pipelines.import_csv import import_csv
from pipelines.warehouse import open_pipeline
from pipelines.warehouse.publish import publish_views
from sources.mailjet import schema
from tests.conftest import Api, start
from tests.postgres.conftest import Database
from tests.sources.conftest import point_at
from tests.sources.test_retype import as_integer

REPO = Path(__file__).resolve().parents[2]
CONTACTS_CSV = REPO / "examples" / "contacts.csv"

USER_VIEW = (
    "create view analytics.active_contacts as "
    "select id, email, _source from mailjet.contacts where is_excluded_from_campaigns is not true"
)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Api]:
    """A small sandbox that the view tests only read."""
    app = start(contacts=60)
    yield Api(app)
    app.stop()


def test_a_users_view_over_the_contacts_survives_ten_loads(
    engine: str, sandbox: Api, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    point_at(sandbox, monkeypatch)
    db = tmp_path / "w.duckdb"
    where: dict[str, Any] = {"db": str(db), "destination": engine}
    if engine == "postgres":
        database: Database = request.getfixturevalue("postgres")
        query = database.rows
    else:

        def query(sql: str) -> list[tuple[Any, ...]]:
            with duckdb.connect(str(db)) as con:
                return con.sql(sql).fetchall()

    extract(resources="contacts", **where)
    query("create schema analytics")
    query(USER_VIEW)
    for i in range(10):
        if i % 2:
            import_csv(files=[str(CONTACTS_CSV)], progress=False, **where)
        else:
            extract(resources="contacts", **where)
        counted = query("select count(*), count(distinct _source) from analytics.active_contacts")
        expected = query(f"select count(*), count(distinct _source) from ({USER_VIEW.split(' as ', 1)[1]}) v")
        assert counted == expected and counted[0][0] > 0, f"after load {i + 1}"
    assert query("select count(*) from analytics.active_contacts where _source like 'csv:%'")[0][0] > 0


def test_a_view_whose_columns_change_is_never_dropped_from_under_a_users_view(
    postgres: Database, sandbox: Api, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    point_at(sandbox, monkeypatch)
    where: dict[str, Any] = {"db": str(tmp_path / "unused.duckdb"), "destination": "postgres"}
    extract(resources="contacts", **where)
    # `mailjet.contacts` as an earlier version might have shaped it (before the models that read it), and a
    # user's view over that shape.
    postgres.rows("drop view mailjet.contacts cascade")
    postgres.rows("create view mailjet.contacts as select id, email as address from mailjet_api.contacts")
    postgres.rows("create schema analytics")
    postgres.rows("create view analytics.addresses as select address from mailjet.contacts")

    with pytest.raises(CommandError) as refused:
        extract(resources="contacts", **where)
    assert refused.value.exit_code == EXIT_USAGE
    message = str(refused.value)
    assert "mailjet.contacts (id, address) changes its columns" in message
    assert "analytics.addresses" in message and "run this command again" in message
    assert postgres.rows("select count(*) from analytics.addresses") == [(60,)]  # untouched, still read

    postgres.rows("drop view analytics.addresses")
    extract(resources="contacts", **where)
    assert postgres.rows("select count(email) from mailjet.contacts") == [(60,)]


def test_retyping_a_column_drops_only_the_views_that_read_its_table(
    postgres: Database, sandbox: Api, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    point_at(sandbox, monkeypatch)
    where: dict[str, Any] = {"db": str(tmp_path / "unused.duckdb"), "destination": "postgres"}
    sms = as_integer(schema.SMS_MESSAGES, "id")  # as an earlier version typed it, with one row
    old_sms = sms.to_arrow(
        [{"MessageId": "7", "From": "MJPilot", "CreationTS": 1767225600}], datetime.now(UTC)
    )
    pipeline = open_pipeline(**where)
    pipeline.run([sms.resource(iter([old_sms]))], schema=dlt.Schema("mailjet"))
    with pipeline.sql_client() as client:
        publish_views(client)
    postgres.rows("create schema analytics")
    postgres.rows(USER_VIEW)
    # A model that reads no retyped table stays too, and so does a user's view over it.
    postgres.rows("create view analytics.growth as select * from mailjet_models.list_growth")

    result = extract(resources="contacts", **where)
    assert "sms_messages.id is text now (it was a number); every value was kept" in result.notes
    assert postgres.rows("select count(*) from analytics.growth") == [(0,)]  # readable; no list was read
    assert postgres.rows("select id from mailjet.sms_messages") == [("7",)]
    active = postgres.rows(
        "select count(*) from mailjet.contacts where is_excluded_from_campaigns is not true"
    )
    assert postgres.rows("select count(*) from analytics.active_contacts") == active != [(0,)]


@pytest.fixture(params=["duckdb", "postgres"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)
