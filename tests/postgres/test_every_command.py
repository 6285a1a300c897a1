"""Every command on a real PostgreSQL, repeatedly, gives what it gives on DuckDB, row for row: two sandboxes
seeded alike, the same commands on both (tests/postgres/walk.py), then every table and view compared."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pipelines.apply import ApplyResult
from pipelines.extract import ExtractResult
from pipelines.plan import PlanResult
from pipelines.runs_list import recent_runs
from pipelines.warehouse.names import (
    API_DATASET,
    CRM_DATASET,
    CSV_DATASET,
    MATCHED_DATASET,
    VIEWS_DATASET,
)
from tests.conftest import FIXED_NOW, Api, start
from tests.postgres.compare import (
    Mask,
    Query,
    Reader,
    differences,
    duckdb_reader,
    postgres_reader,
    relation,
    relations,
)
from tests.postgres.conftest import Server, new_database
from tests.postgres.walk import HOOK_AUTH, Walk, hook_events, walk
from tests.sources.conftest import point_at

CONTACTS = 80
SEED = 11
MEMBERS = 12  # contacts the CRM knows, granted the newsletter and service messages
SYNC_DATASET = "mailjet_sync"
DATASETS = (VIEWS_DATASET, SYNC_DATASET, API_DATASET, CSV_DATASET, CRM_DATASET, MATCHED_DATASET)
ENGINES = ("duckdb", "postgres")
RUN_IDS = ("run_id", "last_run_id")
EXCLUDED = ("batch_key", "uuid")
WALL_CLOCK = "<wall clock>"
# A team's server keeps its office's time zone: a session there is not in UTC unless told so.
SERVER_ZONE = "Pacific/Auckland"
BIN = Path(sys.executable).parent / "mailjet-elt"
HOOKS = 4  # events the sandbox delivers to the receiver (walk.hook_events)


@dataclass(frozen=True)
class Engine:
    walk: Walk
    query: Query
    started: datetime  # when the fixture started: every time a command took from the wall clock is later
    where: dict[str, Any]  # the database: `db` and `destination`, as the commands take them


def people(api: Api) -> tuple[list[str], str, str]:
    """The CRM's people (the first contacts), a newsletter member who has had a message, and another
    contact who has: read from the sandbox, so alike on both engines."""
    contacts = api.data("contact", Limit=MEMBERS, Sort="ID")
    lists = {str(row["Name"]): int(str(row["ID"])) for row in api.data("contactslist", Limit=100)}
    subscribed = {
        int(str(r["ContactID"]))
        for r in api.data("listrecipient", ContactsList=lists["Newsletter"], Unsub="false", Limit=1000)
    }
    sent_to = [int(str(m["ContactID"])) for m in api.data("message", FromTS=1, Limit=1000, Sort="ID")]
    member = next(c for c in sent_to if c in subscribed)
    other = next(c for c in sent_to if c not in subscribed)
    email = {c: str(api.data(f"contact/{c}")[0]["Email"]) for c in (member, other)}
    return [str(c["Email"]) for c in contacts], email[member], email[other]


@pytest.fixture(scope="module")
def engines(postgres_server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Engine]]:
    """The same commands on DuckDB and on Postgres, each against a sandbox of its own seeded alike."""
    started = datetime.now(UTC)
    folder = tmp_path_factory.mktemp("engines")
    database = new_database(postgres_server)
    database.rows(f"alter database {database.name} set timezone = '{SERVER_ZONE}'")
    done: dict[str, Engine] = {}
    readers: list[Reader] = []
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", database.url)
        monkeypatch.setenv("DLT_DATA_DIR", str(folder / "dlt"))
        monkeypatch.setenv("DLT_LOCAL_DIR", str(folder / "project"))  # the warehouse's working folder
        for engine in ENGINES:
            app = start(contacts=CONTACTS, seed=SEED, now=FIXED_NOW, frozen_clock=True)
            try:
                api = Api(app)
                point_at(api, monkeypatch)
                monkeypatch.setenv("MAILJET__WEBHOOKS__USERNAME", HOOK_AUTH[0])
                monkeypatch.setenv("MAILJET__WEBHOOKS__PASSWORD", HOOK_AUTH[1])
                members, member, other = people(api)
                where: dict[str, Any] = {"db": str(folder / "w.duckdb"), "destination": engine}
                (folder / engine).mkdir()
                walked = walk(api, where, folder / engine, members, hook_events(member, other))
            finally:
                app.stop()
            reader = duckdb_reader(where["db"]) if engine == "duckdb" else postgres_reader(database.url)
            done[engine] = Engine(walked, reader.query, started, where)
            readers.append(reader)
        yield done
    for reader in readers:
        reader.close()


def sent(result: ApplyResult) -> int:
    """The changes an apply had Mailjet make."""
    return sum(sum(run.done.values()) for run in result.runs)


def planned(result: PlanResult) -> dict[str, dict[str, dict[str, int]]]:
    """What a plan planned, per audience (its run ID left out)."""
    return {p.audience: p.actions for p in result.plans}


def counts(result: ExtractResult) -> dict[str, int]:
    """Rows an extract read, per table."""
    return {t.name: t.rows for t in result.tables}


def utc(value: datetime) -> datetime:
    """A timestamp, naive ones taken as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def masking(query: Query, started: datetime) -> Mask:
    """Run IDs as their rank among the runs, job IDs as the run, list and action of their job, and times
    the commands took from the wall clock (any at or after the fixture started: the sandboxes' clocks stand
    at FIXED_NOW, before it) as one marker."""
    _, runs = query("select run_id from mailjet_sync.sync_runs order by run_id")
    rank = {int(r[0]): f"run {i + 1}" for i, r in enumerate(runs)}
    _, commands = query("select run_id from mailjet_sync.command_runs order by run_id")
    rank |= {int(r[0]): f"command {i + 1}" for i, r in enumerate(commands)}
    _, jobs = query("select job_id, run_id, list_id, action from mailjet_sync.sync_jobs")
    job = {int(j): f"{rank[int(r)]}: {a} to list {lid}" for j, r, lid, a in jobs}

    def mask(column: str, value: Any) -> Any:
        if column in RUN_IDS and isinstance(value, int):
            return rank.get(value, value)
        if column == "job_id" and isinstance(value, int):
            return job.get(value, value)
        if isinstance(value, datetime) and utc(value) >= started:
            return WALL_CLOCK
        return value

    return mask


def test_every_command_runs_on_both_engines(engines: dict[str, Engine]) -> None:
    """Each step succeeded on each engine: the extract read the account, the imports and loads were taken,
    the plan and the apply sent the CRM's people to the lists, the first run sent what the unsubscribe
    needs and the second nothing, the receiver loaded the events delivered, the incremental extract read
    only the campaign sent since, and `sql` answered."""
    for engine, walked in ((e, engines[e].walk) for e in ENGINES):
        assert counts(walked.extracted)["contacts"] == CONTACTS, engine
        assert all(i.files[0].contacts > 0 for i in walked.imported), engine
        assert planned(walked.planned)["newsletter"].get("addnoforce"), engine
        assert walked.applied.exit_code == 0 and sent(walked.applied) > 0, engine
        assert walked.first_run.exit_code == 0 and walked.second_run.exit_code == 0, engine
        assert sent(walked.second_run.apply) == 0 and walked.second_run.apply.jobs == 0, engine
        assert not any(p.actions for p in walked.second_run.plan.plans), engine
        assert walked.hooks.loaded >= HOOKS and walked.hooks.last_error is None, engine
        # Only what is new: the campaign's messages, the events' open, click and bounce, and the one row
        # each cursor stands on, which an extract with nothing new reads too (FromTS is inclusive).
        again = counts(walked.second_run.extract)
        new = {"campaigns": 1, "messages": walked.sent, "opens": 1, "clicks": 1, "bounces": 1}
        assert {t: counts(walked.incremental)[t] - again[t] for t in new} == new, engine
        assert walked.sql.startswith("contacts,sources\n"), engine
    duck, pg = engines["duckdb"].walk, engines["postgres"].walk
    assert planned(pg.planned) == planned(duck.planned)
    assert [planned(w.first_run.plan) for w in (duck, pg)] == [planned(duck.first_run.plan)] * 2
    assert [sent(w.applied) for w in (duck, pg)] == [sent(duck.applied)] * 2
    assert counts(pg.incremental) == counts(duck.incremental)
    assert pg.sql == duck.sql
    # `runs` lists the same commands, ended the same way, on both.
    listed = {
        e: [(r.command, r.status) for r in recent_runs(**engines[e].where, limit=1000).runs] for e in ENGINES
    }
    assert {"extract", "import-csv", "load", "plan", "apply"} <= {c for c, _ in listed["postgres"]}
    assert listed["postgres"] == listed["duckdb"]


def test_every_table_and_view_on_postgres_equals_duckdbs_row_for_row(engines: dict[str, Engine]) -> None:
    """Every table and view of `mailjet`, `mailjet_sync`, the raw layers (`mailjet_api`, `mailjet_csv`),
    `crm` and `mailjet_matched`, compared as sorted rows of normalised values (compare.py). What must
    differ is left out of the comparison, and only that:
    - dlt's own tables (`_dlt_loads`, `_dlt_pipeline_state`, `_dlt_version`): load IDs and load times;
    - times the commands took from the wall clock, replaced by one marker wherever they occur
      (`_extracted_at`, `imported_at`, `received_at`, `planned_at`, `data_as_of`, `applied_at`,
      `intended_at`, `started_at`, `managed_since`, `recorded_at`, the changelog's `at`, and the
      ledger's `at` of a file's unsubscribe that states no date, which is its import time): the two
      walks run one after the other;
    - run IDs (`run_id`, `last_run_id`: microseconds since 1970 when the plan ran), replaced by their
      rank among the runs, so that which run did what is still compared;
    - job IDs, replaced by their job's run, action and list: the sandbox numbers jobs in the order they
      start, and dlt starts a load's tables (one per action) in the order its folder lists them;
    - `batch_key` (sync_intents, sync_jobs): a hash of the batch's run IDs;
    - `messages.uuid`: the sandbox gives the messages of a campaign sent during the test a random UUID."""
    duck, pg = engines["duckdb"].query, engines["postgres"].query
    names = relations(duck, DATASETS)
    assert relations(pg, DATASETS) == names
    assert {
        "mailjet.contacts",
        "mailjet.events",
        "mailjet_sync.sync_plan",
        "mailjet_sync.sync_changelog",
    } <= set(names)
    started = engines["duckdb"].started
    masks = masking(duck, started), masking(pg, started)
    found = {}
    for name in names:
        diff = differences(relation(duck, name, EXCLUDED, masks[0]), relation(pg, name, EXCLUDED, masks[1]))
        if diff:
            found[name] = diff
    assert not found, "\n".join(f"{name}: " + "\n  ".join(d) for name, d in found.items())
    events = relation(pg, "mailjet.events")[1]
    assert len(events) >= HOOKS  # what the receiver loaded is seen through the view


def told(where: dict[str, Any], email: str) -> dict[str, Any]:
    """What `mailjet-elt explain EMAIL --format json` says, run as a user runs it (in its own process: this
    one holds the DuckDB file open read-only, with another configuration)."""
    duckdb = where["destination"] == "duckdb"
    database = ["--db", where["db"]] if duckdb else ["--destination", where["destination"]]
    done = subprocess.run(
        [str(BIN), *database, "explain", email, "--format", "json"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    story: dict[str, Any] = json.loads(done.stdout)
    story["engagement"] = [story["engagement"]]
    return story


def story_shape(p: dict[str, Any]) -> dict[str, Any]:
    """What `explain` says about a person, less what the clock and the run and job numbers give."""
    keep = {
        "contacts": ("email", "name", "_source"),
        "consent": ("permission", "granted", "source", "list_id", "in_force"),
        "suppression": ("reason", "source"),
        "memberships": ("list_name", "is_unsubscribed", "_source", "audience", "last_action"),
        "decisions": ("audience", "list_name", "action", "reason", "evidence", "run_status", "outcome"),
        "rejections": ("audience", "stage", "reason", "detail"),
        "engagement": ("messages", "opens", "clicks"),
    }
    return {
        part: sorted(tuple(str(row[c]) for c in columns) for row in p[part]) for part, columns in keep.items()
    }


def test_explain_tells_the_same_story_on_postgres(engines: dict[str, Engine]) -> None:
    """Everyone a plan decided about, and the CRM's people: the same story on both engines."""
    _, planned_for = engines["duckdb"].query("select distinct email from mailjet_sync.sync_plan")
    emails = sorted({str(r[0]) for r in planned_for})
    assert len(emails) > 1
    stories = {e: [story_shape(told(engines[e].where, m)) for m in emails] for e in ENGINES}
    assert stories["postgres"] == stories["duckdb"]
    assert any(s["decisions"] for s in stories["postgres"]) and any(s["consent"] for s in stories["postgres"])


def test_the_sync_history_model_reads_the_same_on_postgres(engines: dict[str, Engine]) -> None:
    """`mailjet_models.sync_history` over the runs both walks planned and applied: the same figures (its
    rows from the sync's own tables on DuckDB: tests/sync/test_history_model.py)."""
    found = {
        engine: sorted(engines[engine].query("select * from mailjet_models.sync_history")[1], key=repr)
        for engine in ENGINES
    }
    assert found["postgres"] == found["duckdb"]
    assert found["duckdb"] and any(r[5] for r in found["duckdb"])  # runs that planned adds
