"""The three layers: `mailjet_api` holds what the API returns, `mailjet_csv` what the files hold, and the
`mailjet` views combine them by the README's rules — whichever command ran first."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from pipelines.errors import CommandError
from pipelines.extract import extract
from pipelines.import_csv import import_csv
from pipelines.models import statement
from pipelines.warehouse.datasets import API_DATASET, LAYER_DATASETS, MATCHED_DATASET, RAW_TABLES
from pipelines.warehouse.lock import WriterLock
from pipelines.warehouse.publish import MATCHED_FOLDER, VIEWS_FOLDER, matched_names, view_names, view_sql
from sources.mailjet import schema
from sources.mailjet_csv.rows import synthetic_id
from tests.conftest import Api
from tests.sources.conftest import every_row, point_at

RESOURCES = "contacts,contact_lists,list_recipients,contact_properties"
VIEWS = ("contacts", "contact_lists", "list_recipients", "contact_properties", "csv_rejections")


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(sql).fetchall()


def views(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the identity views, without load stamps."""
    return {
        name: sorted(rows(db, f"select * exclude (_extracted_at) from mailjet.{name}"), key=repr)
        for name in VIEWS
    }


def files(tmp_path: Path, api: Api) -> tuple[Path, Path, dict[str, Any]]:
    """Two exports: the first names a Mailjet contact (other case), an unsubscribed Mailjet member saying
    subscribed, and a newcomer; the second, later one changes the newcomer's city and gives no status."""
    members = api.data("listrecipient", ContactsList=1001, Limit=1000)
    subscribed = next(m for m in members if not m["IsUnsubscribed"])
    unsubscribed = next(m for m in members if m["IsUnsubscribed"])
    email_of = {c["ID"]: c["Email"] for c in every_row(api, "contact")}
    known = {
        "subscribed": (subscribed["ContactID"], email_of[subscribed["ContactID"]]),
        "unsubscribed": (unsubscribed["ContactID"], email_of[unsubscribed["ContactID"]]),
    }
    first = tmp_path / "first.csv"
    first.write_text(
        "Email,Name,City,Status\n"
        f"{known['subscribed'][1].upper()},Someone Else,Lyon,subscribed\n"
        f"{known['unsubscribed'][1]},,Oslo,subscribed\n"
        "new.person@example.com,New Person,Rome,unsubscribed\n"
        "not-an-email,X,Y,subscribed\n",
        encoding="utf-8",
    )
    second = tmp_path / "second.csv"
    second.write_text("email,city\nNew.Person@example.com,Paris\n", encoding="utf-8")
    return first, second, known


def load_files(db: Path, first: Path, second: Path) -> None:
    import_csv(db=str(db), files=[str(first)], list_ref="newsletter", progress=False)
    import_csv(db=str(db), files=[str(second)], list_ref="Newsletter", progress=False)


def test_views_follow_the_rules_whichever_command_ran_first(
    api: Api, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    point_at(api, monkeypatch)
    first, second, known = files(tmp_path, api)
    api_first, files_first = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    extract(db=str(api_first), resources=RESOURCES)
    load_files(api_first, first, second)
    load_files(files_first, first, second)
    extract(db=str(files_first), resources=RESOURCES)
    assert views(api_first) == views(files_first)

    for db in (api_first, files_first):
        # mailjet_api: exactly what the API returns.
        assert sorted(rows(db, "select id, email from mailjet_api.contacts")) == sorted(
            (c["ID"], c["Email"]) for c in every_row(api, "contact")
        )
        assert sorted(
            rows(db, "select id, contact_id, list_id, is_unsubscribed from mailjet_api.list_recipients")
        ) == (
            sorted(
                (m["ID"], m["ContactID"], m["ListID"], m["IsUnsubscribed"])
                for m in every_row(api, "listrecipient")
            )
        )
        # mailjet_csv: exactly what the files hold (valid rows; the rejected one in csv_rejections).
        assert sorted(rows(db, "select file, line, email, name from mailjet_csv.contacts")) == [
            ("first.csv", 2, known["subscribed"][1].upper(), "Someone Else"),
            ("first.csv", 3, known["unsubscribed"][1], None),
            ("first.csv", 4, "new.person@example.com", "New Person"),
            ("second.csv", 2, "New.Person@example.com", None),
        ]
        assert rows(db, "select file, line from mailjet_csv.csv_rejections") == [("first.csv", 5)]
        assert sorted(
            rows(db, "select file, list_ref, is_unsubscribed from mailjet_csv.list_recipients")
        ) == [
            ("first.csv", "newsletter", False),
            ("first.csv", "newsletter", False),
            ("first.csv", "newsletter", True),
            ("second.csv", "Newsletter", None),
        ]

        # mailjet: one contact per email; the API row wins; the file-only contact keeps its file's name.
        api_contacts = len(every_row(api, "contact"))
        assert rows(db, "select count(*), count(distinct lower(email)) from mailjet.contacts") == [
            (api_contacts + 1, api_contacts + 1)
        ]
        for contact_id, email in known.values():
            assert rows(
                db, f"select id, _source from mailjet.contacts where lower(email) = lower('{email}')"
            ) == [(contact_id, "api")]
        newcomer = synthetic_id("new.person@example.com")
        assert rows(db, "select id, email, name, _source from mailjet.contacts where id < 0") == [
            (newcomer, "New.Person@example.com", "New Person", "csv:second.csv")
        ]
        # The file's property attaches to the API contact; the later file's value wins.
        sub_id = known["subscribed"][0]
        assert rows(
            db, f"select value from mailjet.contact_properties where contact_id = {sub_id} and name = 'city'"
        ) == [("Lyon",)]
        assert rows(
            db, f"select value, _source from mailjet.contact_properties where contact_id = {newcomer}"
        ) == [("Paris", "csv:second.csv")]
        # Mailjet's word on a membership wins; a later file without a status keeps the unsubscribe; the
        # file's list is Mailjet's list of that name.
        unsub_id = known["unsubscribed"][0]
        assert rows(
            db,
            "select is_unsubscribed, _source from mailjet.list_recipients "
            f"where contact_id = {unsub_id} and list_id = 1001",
        ) == [(True, "api")]
        assert rows(
            db,
            "select list_id, list_name, is_unsubscribed, _source from mailjet.list_recipients "
            f"where contact_id = {newcomer}",
        ) == [(1001, "Newsletter", True, "csv:second.csv")]
        assert rows(db, "select count(*) from mailjet.contact_lists where id < 0") == [(0,)]


def test_an_import_alone_makes_every_view(tmp_path: Path) -> None:
    export = tmp_path / "e.csv"
    export.write_text("email\nann@example.com\n", encoding="utf-8")
    db = tmp_path / "t.duckdb"
    import_csv(db=str(db), files=[str(export)], progress=False)
    for name in view_names():
        assert rows(db, f"select count(*) from mailjet.{name}")[0][0] == (1 if name == "contacts" else 0), (
            name
        )
    assert not rows(db, "select * from information_schema.schemata where schema_name = 'mailjet_api'")


def test_every_raw_table_a_view_names_is_declared() -> None:
    declared = {(LAYER_DATASETS[layer], t) for layer, tables in RAW_TABLES.items() for t in tables}
    declared |= {(MATCHED_DATASET, t) for t in matched_names()}
    for folder in (VIEWS_FOLDER, MATCHED_FOLDER):
        for path in folder.glob("*.sql"):
            tree = statement(path.stem, folder)
            named = {(t.db, t.name) for t in tree.find_all(exp.Table) if t.db}
            assert named, path.name
            assert named <= declared, (path.name, named - declared)


def test_a_raw_table_not_loaded_yet_stands_in_as_an_empty_relation_of_its_columns() -> None:
    existing = {(API_DATASET, "contacts")}
    sql = view_sql("contacts", existing, dialect="postgres")
    tree = sqlglot.parse_one(sql, read="postgres")
    read = {(t.db, t.name) for t in tree.find_all(exp.Table)}
    assert read == {(API_DATASET, "contacts"), (MATCHED_DATASET, "contacts")}
    everything_missing = sqlglot.parse_one(view_sql("contacts", set()), read="duckdb")
    assert {(t.db, t.name) for t in everything_missing.find_all(exp.Table)} == {(MATCHED_DATASET, "contacts")}
    stand_in = everything_missing.find(exp.Subquery)
    assert stand_in is not None and stand_in.alias == "t"
    assert stand_in.this.named_selects == list(RAW_TABLES["api"]["contacts"].sql_columns())


@pytest.mark.parametrize(
    "table",
    [
        schema.CAMPAIGNS,
        schema.CAMPAIGN_DRAFTS,
        schema.CAMPAIGN_STATS,
        schema.MESSAGES,
        schema.OPENS,
        schema.CLICKS,
    ],
    ids=lambda t: t.name,
)
def test_views_of_api_only_tables_show_every_column(tmp_path: Path, table: schema.Table) -> None:
    db = tmp_path / "t.duckdb"
    export = tmp_path / "e.csv"
    export.write_text("email\nann@example.com\n", encoding="utf-8")
    import_csv(db=str(db), files=[str(export)], progress=False)
    columns = [
        r[0]
        for r in rows(
            db,
            "select column_name from information_schema.columns where table_schema = 'mailjet' "
            f"and table_name = '{table.name}' order by ordinal_position",
        )
    ]
    assert columns == [*(c.name for c in table.columns), "_source", "_extracted_at"]


def test_a_database_of_the_earlier_layout_is_refused_with_the_fix(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema mailjet; create table mailjet.contacts (id bigint)")
    export = tmp_path / "e.csv"
    export.write_text("email\nann@example.com\n", encoding="utf-8")
    with pytest.raises(
        CommandError, match=r"holds tables in `mailjet` \(contacts, \.\.\.\).*drop schema mailjet cascade"
    ) as caught:
        import_csv(db=str(db), files=[str(export)], progress=False)
    assert caught.value.exit_code == 2
    assert rows(db, "select count(*) from mailjet.contacts") == [(0,)]


def test_files_of_one_name_for_two_lists_are_two_imports_and_a_fixed_one_replaces_its_own(
    tmp_path: Path,
) -> None:
    db = tmp_path / "t.duckdb"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = tmp_path / "a" / "export.csv"
    first.write_text("email,city\nx@example.com,Rome\ny@example.com,Oslo\n", encoding="utf-8")
    other = tmp_path / "b" / "export.csv"
    other.write_text("email\ny@example.com\n", encoding="utf-8")
    import_csv(db=str(db), files=[str(first)], list_ref="Newsletter", progress=False)
    import_csv(db=str(db), files=[str(other)], list_ref="VIP", progress=False)
    members = (
        "select c.email, r.list_name from mailjet.list_recipients r "
        "join mailjet.contacts c on c.id = r.contact_id"
    )
    assert sorted(rows(db, members)) == [
        ("x@example.com", "Newsletter"),
        ("y@example.com", "Newsletter"),
        ("y@example.com", "VIP"),
    ]
    assert sorted(
        rows(
            db,
            "select c.email, p.value from mailjet.contact_properties p "
            "join mailjet.contacts c on c.id = p.contact_id",
        )
    ) == [
        ("x@example.com", "Rome"),
        ("y@example.com", "Oslo"),
    ]
    # The Newsletter export again, without x: that import's rows are replaced, the VIP one's stay.
    first.write_text("email,city\ny@example.com,Oslo\n", encoding="utf-8")
    import_csv(db=str(db), files=[str(first)], list_ref="Newsletter", progress=False)
    assert sorted(rows(db, members)) == [("y@example.com", "Newsletter"), ("y@example.com", "VIP")]
    assert rows(db, "select email from mailjet.contacts") == [("y@example.com",)]


def test_a_membership_mailjet_removed_is_not_brought_back_by_an_older_file(
    api: Api, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    point_at(api, monkeypatch)
    db = tmp_path / "t.duckdb"
    member = next(m for m in api.data("listrecipient", ContactsList=1001, Limit=1000) if m["IsUnsubscribed"])
    email = next(c["Email"] for c in every_row(api, "contact") if c["ID"] == member["ContactID"])
    extract(db=str(db), resources=RESOURCES)
    export = tmp_path / "old.csv"
    export.write_text(f"email,status\n{email},subscribed\n", encoding="utf-8")
    import_csv(db=str(db), files=[str(export)], list_ref="1001", progress=False)
    pair = (
        "select is_unsubscribed, _source from mailjet.list_recipients "
        f"where contact_id = {member['ContactID']} and list_id = 1001"
    )
    assert rows(db, pair) == [(True, "api")]
    assert api.delete(f"listrecipient/{member['ID']}").status_code == 204
    extract(db=str(db), resources=RESOURCES)
    assert rows(db, pair) == []  # Mailjet's word on a membership it had, also once removed
    export.write_text(f"email,status\n{email},subscribed\n{email.upper()},\n", encoding="utf-8")
    import_csv(db=str(db), files=[str(export)], list_ref="1001", progress=False)
    assert rows(db, pair) == []  # importing the file again does not bring it back either


def test_an_extract_that_waited_for_an_import_is_stamped_after_it(
    api: Api, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The deleted-contact rule compares the file's import time with Mailjet's last listing: an extract
    that waited for the lock must not stamp its listing with the time it started waiting."""
    point_at(api, monkeypatch)
    db = tmp_path / "t.duckdb"
    export = tmp_path / "e.csv"
    export.write_text("email\nann@example.com\n", encoding="utf-8")
    import_csv(db=str(db), files=[str(export)], progress=False)  # creates the folder and the lock file
    lock = WriterLock(db.parent / f".{db.name}.dlt" / "mailjet_elt.lock", "import-csv", 5)
    lock.acquire()
    waiting = threading.Thread(target=lambda: extract(db=str(db), resources="contacts", lock_wait=60))
    waiting.start()
    time.sleep(1.0)
    released = datetime.now(UTC)
    lock.release()
    waiting.join(timeout=120)
    stamp = rows(db, "select min(_extracted_at) from mailjet_api.contacts")[0][0]
    assert stamp >= released
