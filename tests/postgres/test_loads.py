"""Every command on a real PostgreSQL, repeatedly, and views that outlive every load: a user's own view over
`mailjet.*`, and the sync's, keep working while the loads publish the `mailjet` views again (on DuckDB and
on Postgres, which refuses to drop a view that another view reads)."""

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
from pipelines.load import load
from pipelines.plan import plan
from pipelines.run import RunResult, run
from pipelines.warehouse import open_pipeline
from pipelines.warehouse.publish import publish_views
from sources.mailjet import schema
from tests.conftest import Api, start
from tests.postgres.conftest import Database
from tests.sources.conftest import point_at
from tests.sources.test_retype import as_integer

REPO = Path(__file__).resolve().parents[2]
AUDIENCES = REPO / "audiences.sql"  # the shipped audiences: consent ledger, newsletter and service lists
CONTACTS_CSV = REPO / "examples" / "contacts.csv"
MEMBERS = 20  # contacts the CRM grants the newsletter to

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


def crm_files(tmp_path: Path, emails: list[str]) -> tuple[Path, Path]:
    """CRM profiles of `emails`, and consent events granting them the newsletter and service messages."""
    profiles = tmp_path / "profiles.csv"
    profiles.write_text(
        "email,firstname,country\n" + "".join(f"{e},Name{i},FR\n" for i, e in enumerate(emails)),
        encoding="utf-8",
    )
    consent = tmp_path / "consent.csv"
    consent.write_text(
        "email,permission,granted,at,source\n"
        + "".join(
            f"{e},email_newsletter,yes,2026-06-14T10:00:00Z,crm\n{e},email_service,yes,2026-06-01T10:00:00Z,crm\n"
            for e in emails
        ),
        encoding="utf-8",
    )
    return profiles, consent


def sent(result: RunResult) -> int:
    """The changes a run's apply had Mailjet make."""
    return sum(sum(run.done.values()) for run in result.apply.runs)


def test_every_command_runs_again_and_again_on_postgres(
    postgres: Database, api: Api, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    point_at(api, monkeypatch)
    where: dict[str, Any] = {"db": str(tmp_path / "unused.duckdb"), "destination": "postgres"}
    assert {t.name: t.rows for t in extract(**where).tables}["contacts"] == 300
    emails = [
        str(r[0]) for r in postgres.rows(f"select email from mailjet.contacts order by id limit {MEMBERS}")
    ]
    profiles, consent = crm_files(tmp_path, emails)
    load(file=str(profiles), table="profiles", **where)
    load(file=str(consent), table="consent_events", **where)

    planned = plan(audiences=str(AUDIENCES), **where)  # creates the sync's views over `mailjet.*`
    assert {p.audience: p.actions.get("addnoforce", {}) for p in planned.plans}["newsletter"]
    extract(**where)  # incremental: publishes the views the sync's views read
    imported = import_csv(files=[str(CONTACTS_CSV)], progress=False, **where)
    assert imported.files[0].contacts > 0
    load(file=str(profiles), table="profiles", **where)

    first = run(audiences=str(AUDIENCES), yes=True, sleep=lambda seconds: None, **where)
    assert first.exit_code == 0
    assert sent(first) >= MEMBERS  # the newsletter's members, the service list's
    again = run(audiences=str(AUDIENCES), yes=True, sleep=lambda seconds: None, **where)
    assert again.exit_code == 0
    assert sent(again) == 0 and again.apply.jobs == 0
    assert all(not p.actions for p in again.plan.plans)
    granted = ", ".join(f"'{e.lower()}'" for e in emails)
    newsletter = postgres.rows(
        f"select count(*) from mailjet_sync.audience_newsletter where email in ({granted})"
    )
    assert newsletter == [(MEMBERS,)]


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
    # `mailjet.contacts` as an earlier version might have shaped it, and a user's view over that shape.
    postgres.rows("drop view mailjet.contacts")
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

    result = extract(resources="contacts", **where)
    assert "sms_messages.id is text now (it was a number); every value was kept" in result.notes
    assert postgres.rows("select id from mailjet.sms_messages") == [("7",)]
    active = postgres.rows(
        "select count(*) from mailjet.contacts where is_excluded_from_campaigns is not true"
    )
    assert postgres.rows("select count(*) from analytics.active_contacts") == active != [(0,)]


@pytest.fixture(params=["duckdb", "postgres"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)
