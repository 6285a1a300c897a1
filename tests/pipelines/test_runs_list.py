"""`mailjet-elt runs`: every command that writes the warehouse leaves a row in
`mailjet_sync.command_runs` as it starts and closes it as it ends (ok with its figures, failed with its
message, stopped); a row left running by a process that died is marked interrupted by the next command;
`runs` lists them newest first."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from pipelines.errors import CommandError
from pipelines.extract import extract
from pipelines.interrupts import Interrupted
from pipelines.load import load
from pipelines.plan import plan
from pipelines.run_report import planned_counts
from pipelines.runs_list import recent_runs, render_runs
from pipelines.sync.config import SyncConfiguration
from pipelines.warehouse import command_log, open_pipeline
from pipelines.warehouse.errors import WarehouseError
from pipelines.warehouse.writing import Warehouse
from tests.conftest import Api, creds, start

GOOD = (
    "-- audience: fans\n-- list: Fans\n-- on_exit: remove\n"
    "create or replace view audience_fans as select email from crm.profiles\n"
)
BROKEN = (  # the view reads a column the CRM's table lacks: the plan fails once it holds the warehouse
    "-- audience: fans\n-- list: Fans\n-- on_exit: remove\n"
    "create or replace view audience_fans as select email, nickname from crm.profiles\n"
)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    app = start(contacts=30, messages=0)
    api = Api(app)
    for name, value in creds(api).items():
        monkeypatch.setenv(name, value)
    yield api
    app.stop()


def test_each_writing_command_is_listed_with_how_it_ended(env: Api, tmp_path: Path) -> None:
    db = str(tmp_path / "w.duckdb")
    extracted = extract(db=db)
    emails = sorted(str(c["Email"]).lower() for c in env.data("contact", Limit=100))[:4]
    (tmp_path / "p.csv").write_text("email\n" + "".join(f"{e}\n" for e in emails), encoding="utf-8")
    load(db=db, file=str(tmp_path / "p.csv"), table="profiles")
    (tmp_path / "broken.sql").write_text(BROKEN, encoding="utf-8")
    with pytest.raises(CommandError) as failed:
        plan(db=db, audiences=str(tmp_path / "broken.sql"), config=SyncConfiguration())
    # A command killed once it started: its row stays running.
    with open_pipeline(db).sql_client() as client:
        command_log.begin(client, "apply")
    (tmp_path / "good.sql").write_text(GOOD, encoding="utf-8")
    planned = plan(db=db, audiences=str(tmp_path / "good.sql"), config=SyncConfiguration())

    runs = recent_runs(db=db).runs
    assert [(r.command, r.status) for r in runs] == [
        ("plan", "ok"),
        ("apply", "interrupted"),  # the next command found it running: its process had died
        ("plan", "failed"),
        ("load", "ok"),
        ("extract", "ok"),
    ]
    assert runs[0].detail == planned_counts(planned.plans) == "fans: subscribe 4"
    assert runs[2].detail == str(failed.value) and "nickname" in str(runs[2].detail)
    assert runs[3].detail == "4 rows from p.csv into crm.profiles"
    assert runs[4].detail == f"{extracted.rows:,} rows, {extracted.requests:,} API requests"
    assert runs[1].seconds is None and all(r.seconds is not None and r.seconds >= 0 for r in runs[2:])
    assert runs[0].started_at >= runs[-1].started_at and runs[0].started_at.tzinfo is not None

    assert recent_runs(db=db, limit=2).runs == runs[:2]
    document = json.loads(render_runs(recent_runs(db=db, limit=1), "json"))
    assert (document["result"], document["exit_code"]) == ("runs", 0) and "at" in document
    [latest] = document["runs"]
    assert (latest["command"], latest["status"], type(latest["seconds"])) == ("plan", "ok", float)
    assert datetime.fromisoformat(latest["started_at"]) == runs[0].started_at.replace(microsecond=0)
    shown = render_runs(recent_runs(db=db), "text").splitlines()
    assert shown[0].split() == ["started_at", "command", "status", "seconds", "detail"]
    assert all(len(line) < 200 for line in shown)  # a long error is cut in the table


def test_a_command_that_fails_as_its_views_follow_it_is_recorded_failed(
    env: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The views are republished after the command's own work: a failure there is the command's, not a
    death of its process."""
    db = str(tmp_path / "w.duckdb")
    extract(db=db)

    def refuse(self: Warehouse) -> None:
        raise WarehouseError("the view mailjet.contacts could not be published (test)")

    monkeypatch.setattr(Warehouse, "publish", refuse)
    with pytest.raises(WarehouseError):
        extract(db=db)
    monkeypatch.undo()
    for name, value in creds(env).items():
        monkeypatch.setenv(name, value)
    extract(db=db)
    runs = recent_runs(db=db).runs
    assert [(r.command, r.status) for r in runs] == [
        ("extract", "ok"),
        ("extract", "failed"),
        ("extract", "ok"),
    ]
    assert runs[1].detail == "the view mailjet.contacts could not be published (test)"


def test_a_database_no_command_wrote_lists_no_run(tmp_path: Path) -> None:
    import duckdb

    db = tmp_path / "empty.duckdb"
    duckdb.connect(str(db)).close()
    listing = recent_runs(db=str(db))
    assert listing.runs == [] and render_runs(listing, "text").startswith("No run recorded yet")
    with pytest.raises(CommandError, match="no database at"):
        recent_runs(db=str(tmp_path / "missing.duckdb"))


@pytest.mark.unit
def test_a_failure_is_kept_by_its_message_only_when_it_is_the_commands_own() -> None:
    """A driver's error may carry a connection string: only its kind is kept."""
    assert command_log.ending(CommandError("no plan to apply: run `plan` first")) == (
        "failed",
        "no plan to apply: run `plan` first",
    )
    leaky = RuntimeError("could not connect to postgresql://loader:s3cret@db:5432/warehouse")
    assert command_log.ending(leaky) == ("failed", "RuntimeError")
    assert command_log.ending(Interrupted(15))[0] == "stopped"
