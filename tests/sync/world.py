"""A small warehouse written by hand for the sync's rule tests: Mailjet's raw tables (as `extract`
loads them), the CRM's tables (as `load` does) and the sync's snapshot, then the `mailjet` views."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from pipelines.plan import PlanResult, plan
from pipelines.sync.config import SyncConfiguration
from pipelines.sync.tables import SYNC_DATASET, TABLES
from pipelines.warehouse import open_pipeline
from pipelines.warehouse.datasets import API_DATASET, RAW_TABLES
from pipelines.warehouse.publish import publish_views

LIST_ID = 10
LIST_NAME = "Newsletter"
PERMISSION = "email_newsletter"
START = datetime(2026, 1, 1, tzinfo=UTC)
PROPERTIES = ("firstname", "country")


def day(n: int | None) -> datetime | None:
    return None if n is None else START + timedelta(days=n)


def audiences_file(on_exit: str = "remove", permission: str | None = PERMISSION) -> str:
    """One audience, `news`, fed by crm.profiles: whoever has a profile row is in it."""
    header = f"-- permission: {permission}\n" if permission else ""
    return (
        f"-- audience: news\n-- list: {LIST_NAME}\n{header}-- on_exit: {on_exit}\n"
        f"-- properties: {', '.join(PROPERTIES)}\n"
        "create or replace view audience_news as select email, firstname, country from crm.profiles\n"
    )


@dataclass(frozen=True)
class Person:
    """One person's state in Mailjet and in the CRM. Days count from 2026-01-01."""

    email: str
    in_audience: bool = True  # has a crm.profiles row
    profile: tuple[str | None, str | None] = ("Ann", "FR")  # firstname, country in the CRM
    in_mailjet: bool = True  # Mailjet has the contact
    member: str | None = None  # None, "subscribed" or "unsubscribed" (in the list)
    subscribed: int | None = 1
    unsubscribed: int | None = None
    consents: tuple[tuple[bool, int], ...] = ((True, 2),)  # CRM consent events: (granted, day)
    excluded: bool = False
    spam: bool = False
    hard_bounce: bool = False
    mailjet_props: tuple[str | None, str | None] = ("Ann", "FR")
    managed: bool = False  # added to the list by this audience (sync_snapshot)
    managed_action: str = "addnoforce"  # the sync's last action on them
    extra_rows: int = 0  # more crm.profiles rows with the same email
    crm_upper: bool = False  # the CRM spells the address in capitals
    crm_email: str | None = None  # the CRM spells the address so (default: as `email`)


@dataclass
class World:
    people: Sequence[Person]
    extracted_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    snapshot: bool = True

    def build(self, db: Path) -> None:
        """Write the tables and publish the views."""
        con = duckdb.connect(str(db))
        try:
            self.create(con)
            self.write(con)
        finally:
            con.close()
        with open_pipeline(str(db), None, API_DATASET).sql_client() as client:
            publish_views(client)

    def create(self, con: Any) -> None:
        """Create the tables (empty)."""
        con.execute(f"create schema {API_DATASET}")
        for name in ("contacts", "contact_lists", "list_recipients", "contact_properties", "bounces"):
            columns = ", ".join(f"{c} {t}" for c, t in RAW_TABLES["api"][name].sql_columns().items())
            con.execute(f"create table {API_DATASET}.{name} ({columns})")
        con.execute("create schema crm")
        con.execute("create table crm.profiles (email varchar, firstname varchar, country varchar)")
        con.execute(
            'create table crm.consent_events (email varchar, permission varchar, granted boolean, "at" '
            "timestamp with time zone, source varchar)"
        )
        con.execute(f"create schema {SYNC_DATASET}")
        columns = ", ".join(f'"{c}" {t}' for c, t in TABLES["sync_snapshot"].items())
        con.execute(f"create table {SYNC_DATASET}.sync_snapshot ({columns})")

    def write(self, con: Any, snapshot: bool = True) -> None:
        """Replace the rows of every table with this world's (without `snapshot`, the sync's snapshot stays
        as the sync left it, and this world's `managed` is not written)."""
        self.snapshot = snapshot
        for name in ("contacts", "contact_lists", "list_recipients", "contact_properties", "bounces"):
            con.execute(f"delete from {API_DATASET}.{name}")
        for name in ("crm.profiles", "crm.consent_events", *([f"{SYNC_DATASET}.sync_snapshot"] * snapshot)):
            con.execute(f"delete from {name}")
        at = self.extracted_at
        con.execute(
            f"insert into {API_DATASET}.contact_lists (id, name, is_deleted, _extracted_at) values "
            "(?, ?, false, ?), (?, 'Other list', false, ?)",
            [LIST_ID, LIST_NAME, at, LIST_ID + 1, at],
        )
        for number, person in enumerate(self.people, start=1):
            self._write(con, number, person)

    def _write(self, con: Any, number: int, p: Person) -> None:
        at = self.extracted_at
        if p.in_mailjet:
            con.execute(
                f"insert into {API_DATASET}.contacts (id, email, is_excluded_from_campaigns, "
                "is_spam_complaining, _extracted_at) values (?, ?, ?, ?, ?)",
                [number, p.email, p.excluded, p.spam, at],
            )
            for name, value in zip(PROPERTIES, p.mailjet_props, strict=True):
                if value is not None:
                    con.execute(
                        f"insert into {API_DATASET}.contact_properties values (?, ?, ?, ?)",
                        [number, name, value, at],
                    )
            if p.hard_bounce:
                con.execute(
                    f"insert into {API_DATASET}.bounces (id, contact_id, is_state_permanent, _extracted_at) "
                    "values (?, ?, true, ?)",
                    [number, number, at],
                )
            if p.member:
                unsubscribed = p.member == "unsubscribed"
                con.execute(
                    f"insert into {API_DATASET}.list_recipients (id, contact_id, list_id, list_name, "
                    "is_unsubscribed, is_active, subscribed_at, unsubscribed_at, _extracted_at) "
                    "values (?, ?, ?, ?, ?, true, ?, ?, ?)",
                    [
                        number,
                        number,
                        LIST_ID,
                        LIST_NAME,
                        unsubscribed,
                        day(p.subscribed),
                        day(p.unsubscribed) if unsubscribed else None,
                        at,
                    ],
                )
        if p.in_audience:
            for _ in range(1 + p.extra_rows):
                email = p.crm_email or (p.email.upper() if p.crm_upper else p.email)
                con.execute("insert into crm.profiles values (?, ?, ?)", [email, *p.profile])
        for granted, when in p.consents:
            con.execute(
                "insert into crm.consent_events values (?, ?, ?, ?, 'crm')",
                [p.email, PERMISSION, granted, day(when)],
            )
        if p.managed and self.snapshot:
            con.execute(
                f"insert into {SYNC_DATASET}.sync_snapshot (audience, list_id, email, managed_since, "
                "last_action, last_run_id) values ('news', ?, lower(?), ?, ?, 1)",
                [LIST_ID, p.email, day(p.subscribed) or START, p.managed_action],
            )


def run_plan(
    tmp: Path, people: Sequence[Person], config: SyncConfiguration | None = None, **file: Any
) -> tuple[PlanResult, Path]:
    """Build the world in `tmp` and plan its `news` audience; the result and the database."""
    db = tmp / "sync.duckdb"
    World(people).build(db)
    source = tmp / "audiences.sql"
    source.write_text(audiences_file(**file), encoding="utf-8")
    return plan(db=str(db), audiences=str(source), config=config or SyncConfiguration()), db


def planned(db: Path) -> dict[str, set[tuple[str, str]]]:
    """email -> {(action, reason)} of the latest run."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            f"select email, action, reason from {SYNC_DATASET}.sync_plan "
            f"where run_id = (select max(run_id) from {SYNC_DATASET}.sync_runs)"
        ).fetchall()
    finally:
        con.close()
    out: dict[str, set[tuple[str, str]]] = {}
    for email, action, reason in rows:
        out.setdefault(email, set()).add((action, reason))
    return out


def left_out(db: Path) -> dict[str, set[tuple[str, str]]]:
    """email -> {(stage, reason)} of the latest run's sync_rejections."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            f"select email, stage, reason from {SYNC_DATASET}.sync_rejections "
            f"where run_id = (select max(run_id) from {SYNC_DATASET}.sync_runs)"
        ).fetchall()
    finally:
        con.close()
    out: dict[str, set[tuple[str, str]]] = {}
    for email, stage, reason in rows:
        out.setdefault(str(email), set()).add((stage, reason))
    return out
