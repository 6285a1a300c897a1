"""Every command, in the order a user runs them, against one sandbox and one engine, in-process: what the
equality test runs on DuckDB and on Postgres alike."""

from __future__ import annotations

import contextlib
import io
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.apply import ApplyResult, apply
from pipelines.extract import ExtractResult, extract
from pipelines.import_csv import ImportResult, import_csv
from pipelines.load import load
from pipelines.plan import PlanResult, plan
from pipelines.run import RunResult, run
from pipelines.sql import run_sql
from pipelines.webhooks import LoaderStats, register, serve
from sources.mailjet_webhooks import Receiver, WebhooksConfiguration
from tests.conftest import Api

REPO = Path(__file__).resolve().parents[2]
AUDIENCES = str(REPO / "audiences.sql")  # the shipped audiences: consent ledger, newsletter, service list
EXPORTS = [str(REPO / "examples" / "contacts.csv")]
NEWSLETTER_EXPORT = str(REPO / "examples" / "newsletter.csv")
HOOK_AUTH = ("mailjet", "s3cret-hook")
SQL_QUERY = "select count(*) as contacts, count(distinct _source) as sources from mailjet.contacts"


def no_sleep(seconds: float) -> None:
    """Apply's waits between reads of a list, skipped: the sandbox shows a finished job's changes at once."""


@dataclass
class Walk:
    """What each command gave on one engine."""

    extracted: ExtractResult
    imported: list[ImportResult]
    planned: PlanResult
    applied: ApplyResult
    first_run: RunResult
    second_run: RunResult
    hooks: LoaderStats
    sent: int  # messages of the campaign sent between the two extracts
    incremental: ExtractResult
    sql: str


def crm_files(folder: Path, emails: list[str]) -> tuple[Path, Path]:
    """CRM profiles of `emails`, and consent events: each grants the newsletter (a time in UTC) and service
    messages (a time without a zone, as spreadsheets write them); the first withdraws the newsletter later."""
    profiles = folder / "profiles.csv"
    profiles.write_text(
        "email,firstname,country\n" + "".join(f"{e},Name{i},FR\n" for i, e in enumerate(emails)),
        encoding="utf-8",
    )
    consent = folder / "consent.csv"
    consent.write_text(
        "email,permission,granted,at,source\n"
        + "".join(
            f"{e},email_newsletter,yes,2026-06-10T10:00:00Z,crm\n"
            f"{e},email_service,yes,2026-06-01 23:30:00,crm\n"
            for e in emails
        )
        + f"{emails[0]},email_newsletter,no,2026-06-14T10:00:00Z,preference_centre\n",
        encoding="utf-8",
    )
    return profiles, consent


def receive(api: Api, where: dict[str, Any], events: list[dict[str, Any]]) -> LoaderStats:
    """`webhooks serve` in a thread: registered with the sandbox, which delivers `events` (admin events
    on its messages) to it; stopped once they are delivered, which loads what it received."""
    stop = threading.Event()
    ready: list[Receiver] = []
    stats: list[LoaderStats] = []
    config = WebhooksConfiguration(username=HOOK_AUTH[0], password=HOOK_AUTH[1], flush_seconds=60)
    thread = threading.Thread(
        target=lambda: stats.append(
            serve(port=0, config=config, ready=ready.append, stop=stop, lock_wait=60, **where)
        ),
        daemon=True,
    )
    thread.start()
    deadline = time.monotonic() + 60
    while not ready and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ready, "the receiver did not start"
    register(ready[0].url, version=2)
    for event in events:
        reply = api.admin("POST", "events", event)
        assert reply.status_code == 200, reply.text
    assert api.admin("POST", "webhooks/flush").status_code == 200
    delivered = api.admin("GET", "webhooks").json()["deliveries"]
    assert delivered and all(d["status"] == 200 for d in delivered), delivered
    stop.set()
    thread.join(timeout=120)
    assert not thread.is_alive() and stats
    return stats[0]


def walk(
    api: Api, where: dict[str, Any], folder: Path, members: list[str], hooks: list[dict[str, Any]]
) -> Walk:
    """extract, import-csv, load, plan, apply, import-csv and load again (under the sync's views), run
    twice, webhooks serve, a change in the sandbox, extract again and one `sql` query, on the engine `where`
    names."""
    extracted = extract(**where)
    imported = [import_csv(files=EXPORTS, progress=False, **where)]
    profiles, consent = crm_files(folder, members)
    load(file=str(profiles), table="profiles", **where)
    load(file=str(consent), table="consent_events", **where)
    planned = plan(audiences=AUDIENCES, **where)  # from now on the sync's views read the `mailjet` views
    applied = apply(audiences=AUDIENCES, yes=True, sleep=no_sleep, **where)
    imported.append(import_csv(files=[NEWSLETTER_EXPORT], list_ref="Newsletter", progress=False, **where))
    load(file=str(profiles), table="profiles", **where)
    first_run = run(audiences=AUDIENCES, yes=True, sleep=no_sleep, **where)
    second_run = run(audiences=AUDIENCES, yes=True, sleep=no_sleep, **where)
    received = receive(api, where, hooks)
    assert api.admin("POST", "clock", {"advance": 3600}).status_code == 200
    campaign = api.admin("POST", "campaigns", {"list": "Service messages"})
    assert campaign.status_code == 201, campaign.text
    incremental = extract(**where)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert run_sql(query=SQL_QUERY, output="csv", **where) == 0
    return Walk(
        extracted,
        imported,
        planned,
        applied,
        first_run,
        second_run,
        received,
        int(campaign.json()["messages"]),
        incremental,
        out.getvalue(),
    )


def hook_events(newsletter_member: str, other: str) -> list[dict[str, Any]]:
    """The admin events the sandbox delivers to the receiver: an open, a click and an unsubscribe by a
    newsletter member, a hard bounce of another contact."""
    return [
        {"event": "open", "email": newsletter_member},
        {"event": "click", "email": newsletter_member, "url": "https://shop.example.com/sale"},
        {"event": "unsub", "email": newsletter_member},
        {"event": "bounce", "email": other, "hard": True},
    ]
