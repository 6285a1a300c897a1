"""The sandbox worlds of the apply and run tests: a warehouse extracted once per module from a seeded
sandbox, with CRM profiles and consent, copied for each test and paired with a sandbox of its own."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.extract import extract
from pipelines.load import load
from tests.conftest import Api, creds, start

SANDBOX_CONTACTS = 400


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A warehouse extracted from a seeded sandbox, with CRM profiles and consent for 150 of its
    contacts. Every sandbox started with the same settings holds the same data, so each test copies it
    and pairs it with a sandbox of its own."""
    app = start(contacts=SANDBOX_CONTACTS)
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
def world(baseline: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Api, Path]]:
    """A fresh sandbox and a copy of the baseline warehouse extracted from an identical one."""
    app = start(contacts=SANDBOX_CONTACTS)
    api = Api(app)
    for name, value in creds(api).items():
        monkeypatch.setenv(name, value)
    db = tmp_path / baseline.name
    shutil.copy(baseline, db)
    shutil.copytree(baseline.parent / f".{baseline.name}.dlt", tmp_path / f".{baseline.name}.dlt")
    yield api, db
    app.stop()
