"""The sandbox worlds of the sync tests: a warehouse extracted once per module from a seeded sandbox,
with CRM profiles and consent, copied for each test and paired with a sandbox of its own; and a list the
sync filled (`synced`)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.apply import apply
from pipelines.extract import extract
from pipelines.load import load
from pipelines.plan import plan
from pipelines.sync.config import SyncConfiguration
from tests.conftest import Api, creds, start

SANDBOX_CONTACTS = 400


@pytest.fixture(scope="module")
def sandbox_settings() -> dict[str, Any]:
    """How the sandboxes of `baseline` and `world` are seeded (`start`'s keywords); a module may override
    it, for every world of the module alike."""
    return {"contacts": SANDBOX_CONTACTS}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory, sandbox_settings: dict[str, Any]) -> Iterator[Path]:
    """A warehouse extracted from a seeded sandbox, with CRM profiles and consent for 150 of its
    contacts. Every sandbox started with the same settings holds the same data, so each test copies it
    and pairs it with a sandbox of its own."""
    app = start(**sandbox_settings)
    tmp_path = tmp_path_factory.mktemp("apply")
    db = tmp_path / "w.duckdb"
    with pytest.MonkeyPatch.context() as env:
        for name, value in creds(Api(app)).items():
            env.setenv(name, value)
        extract(db=str(db))
    app.stop()
    with duckdb.connect(str(db), read_only=True) as con:
        emails = [
            str(r[0]) for r in con.sql("select email from mailjet.contacts order by id limit 150").fetchall()
        ]
    (tmp_path / "profiles.csv").write_text(
        "email,firstname,country\n"
        + "".join(f"{e},Name{i},{'DE' if i % 3 else 'FR'}\n" for i, e in enumerate(emails)),
        encoding="utf-8",
    )
    events = "".join(
        f"{e},email_newsletter,{'no' if i % 10 == 0 else 'yes'},2026-06-14T10:00:00Z,crm\n"
        f"{e},email_service,yes,2026-06-01T10:00:00Z,crm\n"
        for i, e in enumerate(emails)
    )
    (tmp_path / "consent.csv").write_text("email,permission,granted,at,source\n" + events, encoding="utf-8")
    load(db=str(db), file=str(tmp_path / "profiles.csv"), table="profiles")
    load(db=str(db), file=str(tmp_path / "consent.csv"), table="consent_events")
    yield db


@pytest.fixture
def world(
    baseline: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox_settings: dict[str, Any]
) -> Iterator[tuple[Api, Path]]:
    """A fresh sandbox and a copy of the baseline warehouse extracted from an identical one."""
    app = start(**sandbox_settings)
    api = Api(app)
    for name, value in creds(api).items():
        monkeypatch.setenv(name, value)
    db = tmp_path / baseline.name
    shutil.copy(baseline, db)
    shutil.copytree(baseline.parent / f".{baseline.name}.dlt", tmp_path / f".{baseline.name}.dlt")
    yield api, db
    app.stop()


MEMBERS = 30
FANS = (
    "-- audience: fans\n-- list: Fans\n-- on_exit: remove\n"
    "create or replace view audience_fans as select email from crm.profiles\n"
)


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(sql).fetchall()


def memberships(api: Api, list_id: int) -> dict[str, bool]:
    """email -> unsubscribed, for every member of the list, as Mailjet says now."""
    emails = {int(c["ID"]): str(c["Email"]).lower() for c in api.data("contact", Limit=1000)}
    return {
        emails[int(r["ContactID"])]: bool(r["IsUnsubscribed"])
        for r in api.data("listrecipient", ContactsList=list_id, Limit=1000)
    }


def write_profiles(path: Path, emails: Sequence[str]) -> None:
    path.write_text("email\n" + "".join(f"{e}\n" for e in emails), encoding="utf-8")


@pytest.fixture
def synced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Api, Path, int, list[str]]]:
    """A sandbox whose list `Fans` the sync filled with the audience's 30 people; the database; the
    list's ID; the people."""
    app = start(contacts=80)
    api = Api(app)
    for name, value in creds(api).items():
        monkeypatch.setenv(name, value)
    db = tmp_path / "w.duckdb"
    extract(db=str(db))
    people = [
        str(r[0]).lower() for r in rows(db, f"select email from mailjet.contacts order by id limit {MEMBERS}")
    ]
    write_profiles(tmp_path / "profiles.csv", people)
    load(db=str(db), file=str(tmp_path / "profiles.csv"), table="profiles")
    (tmp_path / "audiences.sql").write_text(FANS, encoding="utf-8")
    plan(db=str(db), audiences=str(tmp_path / "audiences.sql"), config=SyncConfiguration())
    [run] = apply(db=str(db), yes=True, audiences=str(tmp_path / "audiences.sql")).runs
    assert set(memberships(api, run.list_id)) == set(people)
    yield api, db, run.list_id, people
    app.stop()
