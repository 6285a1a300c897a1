"""Messy consent inputs never lose consent: a CRM row spelled with Unicode blanks or capitals counts as
the person's, and the shipped audiences find profiles whatever blanks surround their address."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from pipelines.plan import plan
from pipelines.report import text
from pipelines.sync.audiences import SHIPPED_AUDIENCES
from pipelines.sync.config import SyncConfiguration
from tests.sync.world import PERMISSION, Person, World, audiences_file, planned

NBSP, TAB, BOM, ZWSP = "\u00a0", "\t", "\ufeff", "\u200b"


def plan_world(tmp_path: Path, people: list[Person], edits: list[tuple[str, list[object]]]) -> Path:
    """Build the world, change its CRM rows with `edits` (SQL, parameters), plan its `news` audience."""
    db = tmp_path / "sync.duckdb"
    World(people).build(db)
    with duckdb.connect(str(db)) as con:
        for sql, args in edits:
            con.execute(sql, args)
    source = tmp_path / "audiences.sql"
    source.write_text(audiences_file(), encoding="utf-8")
    plan(db=str(db), audiences=str(source), config=SyncConfiguration(max_removal_pct=100))
    return db


def test_a_withdrawal_spelled_with_unicode_blanks_is_never_ignored(tmp_path: Path) -> None:
    people = [
        Person(f"{name}@x.com", member="subscribed", subscribed=3, consents=((True, 1), (False, 5)))
        for name in ("nbsp", "tab", "bom", "caps")
    ]
    spelled = {
        "nbsp@x.com": (f"nbsp@x.com{NBSP}", PERMISSION),
        "tab@x.com": ("tab@x.com", f"{PERMISSION}{TAB}"),
        "bom@x.com": (f"{BOM}bom@x.com{ZWSP}", f"{NBSP}{PERMISSION}"),
        "caps@x.com": ("CAPS@X.COM ", PERMISSION.upper()),
    }
    edits: list[tuple[str, list[object]]] = [
        (
            "update crm.consent_events set email = ?, permission = ? where email = ? and not granted",
            [e, p, who],
        )
        for who, (e, p) in spelled.items()
    ]
    db = plan_world(tmp_path, people, edits)
    assert planned(db) == {who: {("unsub", "consent_withdrawn")} for who in spelled}


def test_a_grant_spelled_with_unicode_blanks_adds_the_person_once(tmp_path: Path) -> None:
    people = [Person("ann@x.com", consents=()), Person("bob@x.com", consents=())]
    edits: list[tuple[str, list[object]]] = [
        (
            "insert into crm.consent_events values (?, ?, true, '2026-01-02', 'crm')",
            [f"{TAB}Ann@X.com{NBSP}", f"{PERMISSION}{ZWSP}"],
        ),
        ("update crm.profiles set email = ? where email = 'bob@x.com'", [f"{BOM}bob@x.com\r\n"]),
        ("insert into crm.consent_events values ('bob@x.com', ?, true, '2026-01-02', 'crm')", [PERMISSION]),
    ]
    db = plan_world(tmp_path, people, edits)
    assert planned(db) == {
        "ann@x.com": {("addnoforce", "joined_audience")},
        "bob@x.com": {("addnoforce", "joined_audience")},
    }


def test_the_shipped_audiences_match_profiles_whatever_blanks_surround_the_address(tmp_path: Path) -> None:
    """A consenting person whose profile address starts with a tab is on `Service messages`; one whose
    address ends in a no-break space gets their first name pushed to `Newsletter`."""
    db = tmp_path / "sync.duckdb"
    World([Person("svc@x.com", consents=()), Person("news@x.com", consents=())]).build(db)
    with duckdb.connect(str(db)) as con:
        con.execute("update crm.profiles set email = ? where email = 'svc@x.com'", [f"{TAB}svc@x.com"])
        con.execute("update crm.profiles set email = ? where email = 'news@x.com'", [f"News@x.com{NBSP}"])
        con.execute(
            "insert into crm.consent_events values "
            "('svc@x.com', 'email_service', true, '2026-01-02', 'crm'), "
            "('news@x.com', 'email_newsletter', true, '2026-01-02', 'crm')"
        )
    source = tmp_path / "audiences.sql"
    shutil.copy(SHIPPED_AUDIENCES, source)
    plan(db=str(db), audiences=str(source), config=SyncConfiguration())
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select r.audience, p.email, p.action, p.properties from mailjet_sync.sync_plan p "
            "join mailjet_sync.sync_runs r using (run_id) order by 1, 2"
        ).fetchall()
    assert rows == [
        ("newsletter", "news@x.com", "addnoforce", '{"firstname":"Ann","country":"FR"}'),
        ("service", "svc@x.com", "addnoforce", '{"firstname":"Ann"}'),
    ]


def test_crm_consent_rows_the_ledger_cannot_use_are_rejected_with_a_reason(tmp_path: Path) -> None:
    db = tmp_path / "sync.duckdb"
    World([Person("ann@x.com", member="subscribed", subscribed=1)]).build(db)
    bad = [
        ("not-an-email", PERMISSION, False, "2026-02-01", "invalid_email"),
        (f"{NBSP}{TAB}", PERMISSION, False, "2026-02-01", "missing_email"),
        ("ann@x.com", "email_newsleter", False, "2026-02-01", "unknown_permission"),
        ("ann@x.com", f" {TAB}", False, "2026-02-01", "no_permission"),
        ("ann@x.com", PERMISSION, False, None, "no_date"),
        ("ann@x.com", PERMISSION, None, "2026-02-01", "no_granted"),
    ]
    with duckdb.connect(str(db)) as con:
        for email, permission, granted, at, _ in bad:
            con.execute(
                "insert into crm.consent_events values (?, ?, ?, ?, 'crm')", [email, permission, granted, at]
            )
        con.execute(  # a grant of a permission nobody declares is harmless: not rejected
            "insert into crm.consent_events values ('ann@x.com', 'sms', true, '2026-02-01', 'crm')"
        )
    source = tmp_path / "audiences.sql"
    source.write_text(audiences_file(), encoding="utf-8")
    result = plan(db=str(db), audiences=str(source), config=SyncConfiguration())
    [news] = result.plans
    assert news.consent_rejected == {reason: 1 for *_, reason in bad}
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select email, reason, detail from mailjet_sync.sync_rejections where stage = 'consent'"
        ).fetchall()
    assert sorted((str(e), str(r)) for e, r, _ in rows) == sorted((str(e), r) for e, *_, r in bad)
    assert (
        "ann@x.com",
        "unknown_permission",
        "crm.consent_events: permission email_newsleter, granted false, at 2026-02-01 00:00:00+00",
    ) in rows
    assert "CRM consent rows not used: 6" in text(result)
