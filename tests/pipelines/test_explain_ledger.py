"""`explain` reads one person's ledger (consent_ledger.sql with the person's address put into each of its
sources), not the whole ledger: on a world of addresses spelled every way the sync normalizes (capitals,
spaces, a no-break space, a tab, a blank inside), with two CRM events at the same instant, a webhook
unsubscribe and a forgotten unsubscription of the record, the person's ledger holds exactly the rows the
whole ledger holds for them, the person's `consent_current` exactly the view's, and the story's events in
force are those rows."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import sqlglot

from pipelines import models
from pipelines.explain import explain
from pipelines.plan import plan
from pipelines.sync.config import SyncConfiguration
from pipelines.sync.ledger_query import ledger_query
from pipelines.warehouse.datasets import RAW_TABLES
from tests.sync.world import LIST_ID, PERMISSION, Person, World, audiences_file, day

LEDGER = 'select email, permission, granted, "at", source, list_id from mailjet_sync.consent_ledger'
CURRENT = 'select email, permission, granted, "at", source, list_id from mailjet_sync.consent_current'
# (how explain is asked, the address as the ledger holds it)
ASKED = [
    ("ann@x.com", "ann@x.com"),
    ("  ANN@X.com\t", "ann@x.com"),
    ("bob@x.com", "bob@x.com"),
    ("\u00a0Cy@X.com", "cy@x.com"),
    ("dee@x.com", "dee@x.com"),
    ("joann@x.com", "joann@x.com"),
    ("ann@x.co", "ann@x.co"),
    ("e ve@x.com", "e ve@x.com"),
    ("E\tVE@x.com", "e ve@x.com"),
    ("nobody@x.com", "nobody@x.com"),
]


def world(tmp_path: Path) -> Path:
    people = [
        # A grant and a withdrawal at the same instant in the CRM, a Mailjet subscription, a webhook
        # unsubscribe spelled otherwise, and a recorded unsubscription no source shows any more.
        Person("ann@x.com", member="subscribed", subscribed=1, consents=((True, 2), (False, 2))),
        Person("Bob@X.COM ", member="subscribed", subscribed=1, consents=((True, 3),)),
        Person("cy@x.com", member="unsubscribed", subscribed=1, unsubscribed=3, consents=()),
        Person("\tDee@x.com", member="subscribed", subscribed=2, consents=((False, 4),)),
        # Addresses that hold another's, or that another holds: never theirs.
        Person("joann@x.com", member="subscribed", subscribed=1, consents=((True, 1),)),
        Person("ann@x.co", consents=((False, 6),)),
        Person("e ve@x.com", member="subscribed", subscribed=1, consents=((True, 1),)),
    ]
    db = tmp_path / "w.duckdb"
    World(people).build(db)
    with duckdb.connect(str(db)) as con:
        spelled = [
            ("ANN@x.com", True, 5),
            (" ann@X.COM\u00a0", False, 5),
            ("ann@x.com\t", True, 5),  # the same instant again, from the CRM
            ("BOB@x.com", False, 3),  # a withdrawal at the grant's instant
            ("\u00a0cy@x.com", True, 7),
            ("e\tve@x.com", False, 2),
            ("Dee@X.com  ", True, 4),
        ]
        for email, granted, when in spelled:
            con.execute(
                "insert into crm.consent_events values (?, ?, ?, ?, 'crm')",
                [email, PERMISSION.upper(), granted, day(when)],
            )
        columns = ", ".join(f"{c} {t}" for c, t in RAW_TABLES["api"]["events"].sql_columns().items())
        con.execute(f"create table mailjet_api.events ({columns})")
        for key, email in (("k1", " Ann@x.com"), ("k2", "Dee@X.com\t")):
            con.execute(
                "insert into mailjet_api.events (event_key, event, email, time, mj_list_id, _extracted_at) "
                "values (?, 'unsub', ?, ?, ?, ?)",
                [key, email, day(8), LIST_ID, day(8)],
            )
    source = tmp_path / "audiences.sql"
    source.write_text(audiences_file(), encoding="utf-8")
    plan(db=str(db), audiences=str(source), config=SyncConfiguration())
    with duckdb.connect(str(db)) as con:  # an unsubscription only the record holds now
        con.execute(
            "insert into mailjet_sync.sync_unsubscriptions values ('ann@x.com', ?, null, ?, 'mailjet', ?)",
            [LIST_ID, day(9), datetime.now(UTC)],
        )
    return db


def test_the_person_ledger_holds_every_row_of_the_whole_ledger_about_them_and_no_other(
    tmp_path: Path,
) -> None:
    db = world(tmp_path)
    with duckdb.connect(str(db), read_only=True) as con:
        inputs: dict[str, dict[str, str]] = {}
        for schema, name, column, kind in con.execute(
            "select table_schema, table_name, column_name, data_type from information_schema.columns "
            "where table_schema || '.' || table_name in ('crm.consent_events', 'mailjet_api.events')"
        ).fetchall():
            inputs.setdefault(f"{schema}.{name}", {})[column] = kind.lower()
        email = sqlglot.parse_one("mailjet_sync.norm(?)", read="duckdb")

        def person_ledger() -> Any:
            return ledger_query(inputs["crm.consent_events"], inputs["mailjet_api.events"], email)

        current = models.replace_tables(
            models.statement("consent_current").expression, {"mailjet_sync.consent_ledger": person_ledger()}
        )
        whole = con.execute(LEDGER).fetchall()
        whole_current = con.execute(CURRENT).fetchall()
        assert {row[0] for row in whole} <= {held for _, held in ASKED}  # every row is someone's asked
        assert whole_current
        for asked, held in ASKED:
            theirs = [row for row in whole if row[0] == held]
            query = person_ledger()
            mine = con.execute(
                models.to_sql(query, "duckdb"), [asked] * models.placeholders(query)
            ).fetchall()
            assert Counter(mine) == Counter(theirs), asked
            mine_current = con.execute(
                models.to_sql(current, "duckdb"), [asked] * models.placeholders(current)
            ).fetchall()
            assert Counter(mine_current) == Counter(r for r in whole_current if r[0] == held), asked
    ann = [row for row in whole if row[0] == "ann@x.com"]
    assert {row[4] for row in ann} == {"crm", "mailjet", "webhook"}, ann
    assert len([row for row in ann if row[4] == "crm" and row[3] == day(5)]) == 3  # the same instant
    assert ("ann@x.com", PERMISSION, False, day(9), "mailjet", LIST_ID) in ann  # the record's
    for asked, held in ASKED:
        story = explain(db=str(db), email=asked)
        in_force = [
            (held, e["permission"], e["granted"], e["at"], e["source"], e["list_id"])
            for e in story.parts["consent"]
            if e["in_force"]
        ]
        assert Counter(in_force) == Counter(r for r in whole_current if r[0] == held), asked
        assert len(story.parts["consent"]) == len([row for row in whole if row[0] == held]), asked
