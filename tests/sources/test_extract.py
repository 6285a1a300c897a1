"""`extract` against a seeded sandbox: complete, typed, minimal calls, incremental, deletions."""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from pipelines.extract import extract
from sources.mailjet import FULL_REFRESH_RESOURCES
from sources.mailjet.settings import ENDPOINTS
from tests.conftest import Api, start
from tests.sources.conftest import campaign_stats, every_row, point_at, query, request_counts, send_sms


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, Path, dict[str, int]]]:
    """One sandbox (2,500 contacts, a few SMS) extracted once; tests only read it."""
    app = start(contacts=2500)
    api = Api(app)
    send_sms(api, "+33600000001")
    db = tmp_path_factory.mktemp("seeded") / "mj.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        point_at(api, mp, sms_token=app.config.sms_token)
        extract(db=str(db))
    yield api, db, request_counts(api)
    app.stop()


def keys(db: Path, sql: str) -> set[tuple[Any, ...]]:
    return set(query(db, sql))


def test_every_table_equals_the_sandbox(seeded: tuple[Api, Path, dict[str, int]]) -> None:
    api, db, _ = seeded
    contacts = every_row(api, "contact")
    assert keys(db, "select id, email, is_excluded_from_campaigns from mailjet.contacts") == {
        (c["ID"], c["Email"], c["IsExcludedFromCampaigns"]) for c in contacts
    }
    assert keys(db, "select id, name, subscriber_count from mailjet.contact_lists") == {
        (r["ID"], r["Name"], r["SubscriberCount"]) for r in every_row(api, "contactslist")
    }
    members = every_row(api, "listrecipient")
    assert keys(db, "select id, contact_id, list_id, is_unsubscribed from mailjet.list_recipients") == {
        (r["ID"], r["ContactID"], r["ListID"], r["IsUnsubscribed"]) for r in members
    }
    assert any(r["IsUnsubscribed"] for r in members)
    properties = {
        (r["ContactID"], item["Name"], str(item["Value"]))
        for r in every_row(api, "contactdata")
        for item in r["Data"]
        if item["Value"] not in (None, "")
    }
    assert keys(db, "select contact_id, name, value from mailjet.contact_properties") == properties
    assert keys(db, "select id, name, datatype from mailjet.contact_property_definitions") == {
        (r["ID"], r["Name"], r["Datatype"]) for r in every_row(api, "contactmetadata")
    }
    assert keys(db, "select id, status from mailjet.campaign_drafts") == {
        (r["ID"], r["Status"]) for r in every_row(api, "campaigndraft")
    }
    assert keys(
        db, "select campaign_id, total_count, message_opened_count from mailjet.campaign_stats"
    ) == campaign_stats(api)


def test_event_history_is_complete_not_just_today(seeded: tuple[Api, Path, dict[str, int]]) -> None:
    api, db, _ = seeded
    history = {"FromTS": 1}
    messages = every_row(api, "message", **history)
    assert len(messages) > 2000
    assert keys(db, "select id, contact_id, status from mailjet.messages") == {
        (m["ID"], m["ContactID"], m["Status"]) for m in messages
    }
    assert keys(db, "select id from mailjet.campaigns") == {
        (c["ID"],) for c in every_row(api, "campaign", **history)
    }
    assert keys(db, "select id from mailjet.clicks") == {
        (c["ID"],) for c in every_row(api, "clickstatistics", **history)
    }
    assert keys(db, "select id, is_state_permanent from mailjet.bounces") == {
        (b["ID"], b["IsStatePermanent"]) for b in every_row(api, "bouncestatistics", **history)
    }
    opens = every_row(api, "openinformation", sort="OpenedAt", **history)
    assert query(db, "select count(*) from mailjet.opens")[0][0] == len(
        {(o["MessageID"], o["OpenedAt"]) for o in opens}
    )
    sms = requests.get(
        f"{api.base}/v4/sms",
        params={"FromTS": 1},
        headers={"Authorization": f"Bearer {api.app.config.sms_token}"},
        timeout=30,
    ).json()["Data"]
    assert keys(
        db, "select id, sender, recipient, status_name, epoch(created_at)::bigint from mailjet.sms_messages"
    ) == {(s["MessageId"], s["From"], s["To"], s["Status"]["Name"], s["CreationTS"]) for s in sms}
    assert len(sms) == 1


def test_types_ids_timestamps_and_empty_dates(seeded: tuple[Api, Path, dict[str, int]]) -> None:
    api, db, _ = seeded
    types = dict(
        query(
            db, "select column_name, data_type from information_schema.columns where table_name = 'messages'"
        )
    )
    assert types["id"] == "BIGINT" and types["arrived_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["is_open_tracked"] == "BOOLEAN"
    biggest = max(m["ID"] for m in every_row(api, "message", FromTS=1))
    assert biggest > 2**53
    assert query(db, "select max(id) from mailjet.messages")[0][0] == biggest
    # Mailjet sends "" for unset dates: NULL in the table, never an epoch or a string.
    never = sum(1 for c in every_row(api, "contact") if c["ExclusionFromCampaignsUpdatedAt"] == "")
    assert (
        query(db, "select count(*) from mailjet.contacts where exclusion_from_campaigns_updated_at is null")[
            0
        ][0]
        == never
    )
    first = every_row(api, "contact")[0]
    stamp = query(db, f"select epoch(created_at)::bigint from mailjet.contacts where id = {first['ID']}")[0][
        0
    ]
    from datetime import datetime

    assert stamp == int(datetime.fromisoformat(first["CreatedAt"].replace("Z", "+00:00")).timestamp())
    assert query(db, "select distinct _source from mailjet.contacts") == [("api",)]


def test_full_refresh_resources_cost_one_count_plus_one_call_per_page(
    seeded: tuple[Api, Path, dict[str, int]],
) -> None:
    api, db, counts = seeded
    for resource in FULL_REFRESH_RESOURCES:
        endpoint = ENDPOINTS[resource]
        table_rows = {
            "contact_properties": len(every_row(api, "contact")),  # one /contactdata row per contact
        }.get(resource) or query(db, f"select count(*) from mailjet.{resource}")[0][0]
        calls = counts[f"GET /v3/REST/{endpoint}"]
        assert calls <= math.ceil(table_rows / 1000) + 1, (resource, calls, table_rows)
        assert calls >= math.ceil(table_rows / 1000), (resource, calls, table_rows)


def test_credentials_stay_out_of_the_database_and_pipeline_state(
    seeded: tuple[Api, Path, dict[str, int]],
) -> None:
    api, db, _ = seeded
    secrets = [api.app.config.api_secret.encode(), api.app.config.sms_token.encode()]
    files = [db, *(p for p in db.parent.rglob("*") if p.is_file())]
    assert len(files) > 3
    for path in files:
        content = path.read_bytes()
        assert not any(secret in content for secret in secrets), path


def test_no_copies_are_left_behind(seeded: tuple[Api, Path, dict[str, int]]) -> None:
    _, db, _ = seeded
    assert not list(db.parent.rglob("*.parquet"))
    staged = query(
        db, "select table_name from information_schema.tables where table_schema = 'mailjet_api_staging'"
    )
    merged = [t for (t,) in staged if not t.startswith("_dlt")]  # dlt's own bookkeeping stays
    assert merged, "merges and replacements went through no staging tables"
    for table in merged:
        assert query(db, f"select count(*) from mailjet_api_staging.{table}") == [(0,)], table


UNNEEDED = ("pandas", "great_expectations")
WHAT_IT_IMPORTED = """
import sys
from pipelines.cli import run_command
code = run_command(sys.argv[1:])
print(sorted(m for m in sys.modules if m.split(".")[0] in {unneeded!r}))
sys.exit(code)
"""


def test_extract_imports_neither_pandas_nor_great_expectations(
    seeded: tuple[Api, Path, dict[str, int]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command's process converts every page without pandas (pyarrow would import it, 50 MiB, to look
    for pandas objects among the rows) and plans nothing (great_expectations): neither is imported."""
    api = seeded[0]
    point_at(api, monkeypatch)
    script = WHAT_IT_IMPORTED.format(unneeded=set(UNNEEDED))
    done = subprocess.run(
        [sys.executable, "-c", script, "--db", str(tmp_path / "mj.duckdb"), "extract"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
