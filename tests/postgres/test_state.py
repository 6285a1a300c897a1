"""State that follows the data: a warehouse's working state in a folder of the project named after it (never
in dlt's global folder), and restored from the warehouse when that folder is gone, so that a fresh checkout
or a second machine continues incrementally instead of reading the history again."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.errors import EXIT_USAGE, CommandError
from pipelines.extract import extract
from pipelines.warehouse import open_pipeline, pipelines_dir
from pipelines.warehouse.location import STATE_ROOT, folder_name
from pipelines.warehouse.writing import holding
from pipelines.webhooks import serve, spool_folder
from sources.mailjet_webhooks.spool import events_line
from tests.conftest import Api, start
from tests.postgres.conftest import Database
from tests.sources.conftest import point_at, requests_log
from tests.webhooks.test_receiver import event

LAG = 3600
HORIZON = 30 * 86400  # event_horizon_days' default: messages are read again from that far before the cursor


@pytest.mark.unit
@pytest.mark.parametrize(
    ("destination", "settings", "readable"),
    [
        pytest.param(
            "postgres",
            {"host": "db.example.com", "port": 5432, "database": "warehouse"},
            "postgres-db.example.com-5432-warehouse-",
            id="postgres",
        ),
        pytest.param(
            "postgres",
            {"host": "/tmp/pg sock", "port": 5432, "database": "test_1"},
            "postgres-tmp_pg_sock-5432-test_1-",
            id="socket",
        ),
        pytest.param("bigquery", {"project_id": "acme-data"}, "bigquery-acme_data-", id="bigquery"),
        pytest.param(
            "filesystem", {"bucket_url": "s3://lake/mailjet"}, "filesystem-s3_lake_mailjet-", id="bucket"
        ),
    ],
)
def test_a_warehouse_folder_is_named_by_destination_host_port_and_database(
    destination: str, settings: dict[str, object], readable: str
) -> None:
    name = folder_name(destination, {**settings, "username": "loader", "password": "s3cr3t"})
    assert name.startswith(readable)
    assert len(name) == len(readable) + 10
    assert "loader" not in name and "s3cr3t" not in name
    assert name == folder_name(destination, settings)


@pytest.mark.unit
def test_warehouses_whose_names_read_alike_get_folders_of_their_own() -> None:
    one = folder_name("postgres", {"host": "/tmp/pg sock", "database": "a"})
    other = folder_name("postgres", {"host": "/tmp/pg_sock", "database": "a"})
    assert one.rsplit("-", 1)[0] == other.rsplit("-", 1)[0]
    assert one != other
    long = folder_name("postgres", {"host": "h" * 300, "database": "a"})
    assert len(long) == 96 and long != folder_name("postgres", {"host": "h" * 299, "database": "a"})


def global_files(tmp_path: Path) -> list[str]:
    """What landed in dlt's global folder (the fixture points `DLT_DATA_DIR` at the test's folder)."""
    return sorted(str(p.relative_to(tmp_path)) for p in (tmp_path / "dlt").rglob("*") if p.is_file())


def test_two_databases_on_one_server_get_two_folders_and_none_in_dlt_global_folder(
    postgres: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    postgres.server.execute("postgres", f"create database {postgres.name}_b")
    db = str(tmp_path / "unused.duckdb")
    folders = []
    for name in (postgres.name, f"{postgres.name}_b"):
        monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", postgres.server.url(name))
        folder = pipelines_dir(db, "postgres")
        with holding(db, "postgres", "test") as lock:
            assert lock.path == folder / "mailjet_elt.lock"
        assert Path(open_pipeline(db, "postgres").working_dir) == folder / "mailjet_api"
        assert spool_folder(db, "postgres") == folder / "webhooks-spool"
        assert folder.parent == tmp_path / "project" / STATE_ROOT
        assert folder.name.startswith("postgres-") and f"-{postgres.server.port}-{name}-" in folder.name
        folders.append(folder)
    assert folders[0] != folders[1]
    assert sorted(p.name for p in folders[0].iterdir()) == ["mailjet_api", "mailjet_elt.lock"]
    assert global_files(tmp_path) == []


@pytest.fixture
def sandbox() -> Iterator[Api]:
    """A small sandbox of the test's own (its clock moves, a campaign is sent)."""
    app = start(contacts=60)
    yield Api(app)
    app.stop()


def test_a_deleted_state_folder_costs_no_history_reread(
    postgres: Database, sandbox: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(sandbox, monkeypatch, lag_seconds=str(LAG))
    where = {"db": str(tmp_path / "unused.duckdb"), "destination": "postgres"}
    extract(**where)
    before = postgres.rows("select count(*) from mailjet.messages")[0][0]
    cursor = postgres.rows("select extract(epoch from max(arrived_at))::bigint from mailjet.messages")[0][0]
    folder = pipelines_dir(**where)
    assert (folder / "mailjet_api" / "state.json").is_file()
    shutil.rmtree(folder)  # a fresh checkout, or another machine
    assert sandbox.admin("POST", "clock", {"advance": 7200}).status_code == 200
    sent = sandbox.admin("POST", "campaigns", {"list": "Newsletter", "subject": "Winter sale"}).json()
    assert sandbox.admin("DELETE", "requests").status_code == 204

    extract(**where)

    asked = [int(r["params"]["fromts"]) for r in requests_log(sandbox) if r["path"] == "/v3/REST/message"]
    # From the cursor kept in the warehouse (less the lag and the horizon), not from the start of history.
    assert asked and set(asked) == {cursor - LAG - HORIZON - 1}
    assert postgres.rows("select count(*), count(distinct id) from mailjet.messages")[0] == (
        before + sent["messages"],
        before + sent["messages"],
    )
    assert (folder / "mailjet_api" / "state.json").is_file()
    assert global_files(tmp_path) == []


def test_events_an_earlier_version_spooled_in_dlt_global_folder_are_never_left_behind(
    postgres: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An earlier version spooled a warehouse's webhook events in dlt's global folder: serving from the
    project's folder would leave them there unloaded, an unsubscription among them. The receiver refuses
    to start, naming both folders; once they are moved, it loads them."""
    monkeypatch.setenv("MAILJET__WEBHOOKS__USERNAME", "hooks")
    monkeypatch.setenv("MAILJET__WEBHOOKS__PASSWORD", "secret")
    db = str(tmp_path / "unused.duckdb")
    former = tmp_path / "dlt" / "pipelines" / "webhooks-spool-postgres"
    former.mkdir(parents=True)
    unsub = event("unsub", 1, email="ann@example.com", mj_list_id=3)
    (former / "sealed-000000000001.jsonl").write_bytes(
        events_line("2026-06-14T10:00:00+00:00", bytearray(json.dumps(unsub).encode()))
    )
    done = threading.Event()
    done.set()  # a receiver that starts loads what is pending, then stops at once
    with pytest.raises(CommandError) as refused:
        serve(db=db, destination="postgres", port=0, stop=done)
    now = spool_folder(db, "postgres")
    assert refused.value.exit_code == EXIT_USAGE
    assert str(former) in str(refused.value) and str(now) in str(refused.value)
    now.mkdir(parents=True)
    shutil.move(former / "sealed-000000000001.jsonl", now / "sealed-000000000001.jsonl")
    serve(db=db, destination="postgres", port=0, stop=done)
    assert postgres.rows("select email, event from mailjet.events") == [("ann@example.com", "unsub")]
