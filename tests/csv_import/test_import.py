"""Import semantics: duplicates, statuses, lists, re-imports, and one contact per email across the API
extract and CSV files (against the sandbox over real HTTP)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.extract import extract
from pipelines.warehouse import open_pipeline
from pipelines.warehouse.publish import publish_views
from sources.mailjet_csv.rows import _id_sql, synthetic_id
from tests.conftest import Api
from tests.csv_import.conftest import contacts, load, memberships, properties, rejections, rows, write
from tests.sources.conftest import point_at

SUBSCRIBED_MEMBERS = """
    select lower(c.email) from mailjet.list_recipients r
    join mailjet.contacts c on c.id = r.contact_id
    join mailjet.contact_lists l on l.id = r.list_id
    where l.name = '{name}' and not r.is_unsubscribed
"""


def snapshot(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables an import writes, without the load stamp."""
    return {
        table: sorted(rows(db, f"select * exclude (_extracted_at) from mailjet.{table}"), key=repr)
        for table in ("contacts", "contact_properties", "list_recipients", "contact_lists", "csv_rejections")
    }


def test_duplicate_emails_make_one_contact_and_are_reported(tmp_path: Path) -> None:
    content = (
        "email,city\nann@example.com,Paris\nbob@example.org,Rome\n"
        "ANN@Example.com,Lyon\n ann@example.com ,Nice\n"
    )
    db = tmp_path / "t.duckdb"
    summary = load(db, write(tmp_path, "dups.csv", content))
    assert contacts(db) == {"ann@example.com": None, "bob@example.org": None}
    assert properties(db)[("ann@example.com", "city")] == "Paris"  # the first row wins
    assert rejections(db) == [
        (4, "ANN@Example.com,Lyon", "duplicate email: same address as line 2 (that row is kept)"),
        (5, " ann@example.com ,Nice", "duplicate email: same address as line 2 (that row is kept)"),
    ]
    assert "2 duplicate emails" in summary


def test_reimporting_the_same_file_changes_nothing(tmp_path: Path) -> None:
    content = (
        "email,name,status,plan\nann@example.com,Ann,subscribed,pro\nbob@example.org,Bob,unsub,\nbad,X,sub,\n"
    )
    db = tmp_path / "t.duckdb"
    path = write(tmp_path, "again.csv", content)
    load(db, path, list_ref="Customers")
    first = snapshot(db)
    load(db, path, list_ref="Customers")
    assert snapshot(db) == first
    assert len(first["contacts"]) == 2 and len(first["csv_rejections"]) == 1


def test_rejections_describe_the_latest_import_of_a_file(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    load(db, write(tmp_path, "fixme.csv", "email\nann@example.com\nnot-an-address\n"))
    assert len(rejections(db, "fixme.csv")) == 1
    load(db, write(tmp_path, "fixme.csv", "email\nann@example.com\nfixed@example.com\n"))
    assert rejections(db, "fixme.csv") == []
    assert set(contacts(db)) == {"ann@example.com", "fixed@example.com"}


@pytest.mark.parametrize(
    ("header", "values", "unsubscribed"),
    [
        pytest.param(
            "Status", ["subscribed", "Unsubscribed", "", "ACTIVE", "unsub"], [0, 1, 0, 0, 1], id="status"
        ),
        pytest.param(
            "Subscribed", ["TRUE", "FALSE", "yes", "no", "1"], [0, 1, 0, 1, 0], id="subscribed-bool"
        ),
        pytest.param(
            "Unsubscribed", ["TRUE", "FALSE", "", "1", "0"], [1, 0, 0, 1, 0], id="unsubscribed-bool"
        ),
    ],
)
def test_status_column_sets_list_subscription(
    tmp_path: Path, header: str, values: list[str], unsubscribed: list[int]
) -> None:
    lines = [f"email,{header}"] + [f"c{i}@example.com,{v}" for i, v in enumerate(values)]
    db = tmp_path / "t.duckdb"
    load(db, write(tmp_path, "status.csv", "\n".join(lines) + "\n"), list_ref="Newsletter")
    got = memberships(db)
    assert got == {f"c{i}@example.com": bool(u) for i, u in enumerate(unsubscribed)}
    assert properties(db) == {}  # a status column is membership state, not a property


def test_unknown_status_is_rejected_not_guessed(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    load(
        db,
        write(tmp_path, "s.csv", "email,status\nann@example.com,maybe\nbob@example.org,subscribed\n"),
        list_ref="L",
    )
    assert set(contacts(db)) == {"bob@example.org"}
    [(line, _, reason)] = rejections(db)
    assert line == 2 and reason.startswith('unknown subscription status "maybe" in column status')


def test_without_list_no_memberships_and_status_is_ignored(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    summary = load(db, write(tmp_path, "s.csv", "email,status\nann@example.com,unsubscribed\n"))
    assert rows(db, "select count(*) from mailjet.list_recipients") == [(0,)]
    assert "pass --list" in summary


def test_new_list_is_created_once_and_found_by_name_or_id(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    load(db, write(tmp_path, "a.csv", "email\nann@example.com\n"), list_ref="Spring Promo")
    load(db, write(tmp_path, "b.csv", "email\nbob@example.org\n"), list_ref="spring promo")
    list_id = synthetic_id("list:spring promo")
    assert rows(db, "select id, name from mailjet.contact_lists") == [(list_id, "Spring Promo")]
    load(db, write(tmp_path, "c.csv", "email\ncy@example.com\n"), list_ref=str(list_id).lstrip("-"))
    assert rows(db, f"select count(*) from mailjet.list_recipients where list_id = {list_id}") == [(2,)]


def test_a_later_file_replaces_an_earlier_ones_values(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    load(
        db,
        write(tmp_path, "old.csv", "email,city\nann@example.com,Paris\n"),
        write(tmp_path, "new.csv", "email,city\nANN@example.com,Lyon\n"),
    )
    assert properties(db) == {("ANN@example.com", "city"): "Lyon"}
    assert rows(db, "select _source from mailjet.contacts") == [("csv:new.csv",)]


def test_csv_and_api_contacts_with_the_same_email_are_one_contact(
    api: Api, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    point_at(api, monkeypatch)
    db = tmp_path / "t.duckdb"
    extract(db=str(db), resources="contacts,contact_lists,list_recipients,contact_properties")
    members = api.data("listrecipient", ContactsList=1001, Limit=1000)
    subscribed = next(m for m in members if not m["IsUnsubscribed"])
    unsubscribed = next(m for m in members if m["IsUnsubscribed"])
    email_of = {c["ID"]: c["Email"] for c in api.data("contact", Limit=1000)}
    api_subscribed = {r[0] for r in rows(db, SUBSCRIBED_MEMBERS.format(name="Newsletter"))}
    api_contacts = rows(db, "select count(*) from mailjet.contacts")[0][0]

    content = (
        "Email,Name,City,Status\n"
        f"{email_of[subscribed['ContactID']].upper()},Someone Else,Lyon,subscribed\n"
        # Mailjet says this member unsubscribed; an older export saying otherwise must not re-subscribe them.
        f"{email_of[unsubscribed['ContactID']]},,Oslo,subscribed\n"
        "new.person@example.com,New Person,Rome,subscribed\n"
    )
    summary = load(db, write(tmp_path, "export.csv", content), list_ref="newsletter")
    assert "not in mailjet.contact_lists" not in summary  # the file's list is Mailjet's Newsletter

    assert rows(db, "select count(*) from mailjet.contacts")[0][0] == api_contacts + 1
    assert rows(db, "select count(*) from mailjet.contacts where id < 0") == [(1,)]
    for member in (subscribed, unsubscribed):
        email = email_of[member["ContactID"]]
        # The API row stays as Mailjet has it; the file's property attaches to the API contact.
        assert rows(
            db, f"select id, _source from mailjet.contacts where lower(email) = lower('{email}')"
        ) == [(member["ContactID"], "api")]
        assert rows(
            db,
            "select is_unsubscribed, _source from mailjet.list_recipients "
            f"where contact_id = {member['ContactID']} and list_id = 1001",
        ) == [(member["IsUnsubscribed"], "api")]
    assert rows(
        db,
        "select value from mailjet.contact_properties "
        f"where contact_id = {subscribed['ContactID']} and name = 'city'",
    ) == [("Lyon",)]
    # Subscribed members of the list: the API's and the file's alike.
    assert {r[0] for r in rows(db, SUBSCRIBED_MEMBERS.format(name="Newsletter"))} == api_subscribed | {
        "new.person@example.com"
    }

    before = snapshot(db)
    load(db, write(tmp_path, "export.csv", content), list_ref="Newsletter")
    assert snapshot(db) == before
    extract(db=str(db), resources="contacts,contact_lists,list_recipients,contact_properties")
    assert snapshot(db)["list_recipients"] == before["list_recipients"]
    assert snapshot(db)["contacts"] == before["contacts"]


def test_contacts_and_lists_imported_first_merge_when_the_api_brings_them(
    api: Api, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    point_at(api, monkeypatch)
    db = tmp_path / "t.duckdb"
    first = api.data("contact", Limit=1, Sort="ID")[0]
    known = {m["ContactID"] for m in api.data("listrecipient", ContactsList=1002, Limit=1000)}
    outsider = next(c for c in api.data("contact", Limit=1000) if c["ID"] not in known | {first["ID"]})
    content = (
        f"email,plan\n{first['Email'].upper()},gold\n{outsider['Email']},silver\nlocal@example.com,bronze\n"
    )
    load(db, write(tmp_path, "crm.csv", content), list_ref="SERVICE MESSAGES")
    load(db, write(tmp_path, "numbered.csv", "email\nnumbered@example.com\n"), list_ref="1003")
    assert rows(db, "select count(*) from mailjet.contacts where id < 0") == [(4,)]

    extract(db=str(db), resources="contacts,contact_lists,list_recipients,contact_properties")
    assert sorted(rows(db, "select email from mailjet.contacts where id < 0")) == [
        ("local@example.com",),
        ("numbered@example.com",),
    ]
    # Memberships recorded under list ID 1003 took the list's name once the extract brought it.
    assert rows(
        db, "select list_name from mailjet.list_recipients where list_id = 1003 and _source <> 'api'"
    ) == [("Product updates",)]
    assert rows(db, "select count(*) from mailjet.contact_lists where id < 0") == [(0,)]
    plans = dict(
        rows(
            db,
            "select contact_id, value from mailjet.contact_properties where name = 'plan' and contact_id > 0",
        )
    )
    assert plans == {first["ID"]: "gold", outsider["ID"]: "silver"}
    # The outsider's file membership now points at Mailjet's list 1002; where Mailjet had a membership
    # already, only Mailjet's row is left.
    memberships = rows(
        db,
        f"select contact_id, _source from mailjet.list_recipients where list_id = 1002 "
        f"and contact_id in ({first['ID']}, {outsider['ID']}) order by contact_id",
    )
    expected = [
        (first["ID"], "api" if first["ID"] in known else "csv:crm.csv"),
        (outsider["ID"], "csv:crm.csv"),
    ]
    assert memberships == sorted(expected)
    assert rows(db, "select count(*) from mailjet.list_recipients where list_id < 0") == [(0,)]

    # Mailjet deletes the outsider (GDPR) and purges it: the file's rows about them go too.
    assert api.session.delete(f"{api.base}/v4/contacts/{outsider['ID']}", timeout=30).status_code in (
        200,
        204,
    )
    assert api.admin("POST", "contacts/purge").status_code == 200
    extract(db=str(db), resources="contacts,contact_lists,list_recipients,contact_properties")
    email = outsider["Email"]
    assert rows(db, f"select count(*) from mailjet.contacts where lower(email) = lower('{email}')") == [(0,)]
    assert rows(
        db, f"select count(*) from mailjet.contact_properties where contact_id = {outsider['ID']}"
    ) == [(0,)]
    assert rows(db, f"select count(*) from mailjet.list_recipients where contact_id = {outsider['ID']}") == [
        (0,)
    ]


def test_conflicting_duplicates_keep_an_unsubscribe(tmp_path: Path) -> None:
    content = "email,status\nJane@example.com,subscribed\njane@example.com,unsubscribed\n"
    db = tmp_path / "t.duckdb"
    load(db, write(tmp_path, "conflict.csv", content), list_ref="L")
    assert memberships(db) == {"Jane@example.com": True}


def test_any_status_column_saying_unsubscribed_wins(tmp_path: Path) -> None:
    content = (
        "email,status,unsubscribed\n"
        "a@example.com,active,true\nb@example.com,active,false\nc@example.com,unsub,\n"
    )
    db = tmp_path / "t.duckdb"
    load(db, write(tmp_path, "two.csv", content), list_ref="L")
    got = memberships(db)
    assert got == {"a@example.com": True, "b@example.com": False, "c@example.com": True}
    assert properties(db) == {}


@pytest.mark.parametrize("ref", ["²", "99999999999999999999", "2024"])
def test_list_references_that_are_not_ids_are_names(tmp_path: Path, ref: str) -> None:
    db = tmp_path / "t.duckdb"
    load(db, write(tmp_path, "a.csv", "email\nann@example.com\n"), list_ref=f"x{ref}")  # some other list
    summary = load(db, write(tmp_path, "b.csv", "email\nbob@example.org\n"), list_ref=ref)
    if ref == "2024":  # numeric: an ID when no list has that ID or name
        assert rows(db, "select list_id from mailjet.list_recipients where list_id = 2024") == [(2024,)]
        load(db, write(tmp_path, "c.csv", "email\ncy@example.com\n"), list_ref="2024")
        assert rows(db, "select count(*) from mailjet.list_recipients where list_id = 2024") == [(2,)]
    else:
        assert f"list {ref!r} is not in mailjet.contact_lists: created here" in summary
        assert rows(db, f"select count(*) from mailjet.contact_lists where name = '{ref}'") == [(1,)]


def test_a_list_imported_by_name_merges_into_the_live_mailjet_list(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    load(db, write(tmp_path, "a.csv", "email\nann@example.com\n"), list_ref="Events")
    assert rows(db, "select list_name from mailjet.list_recipients") == [("Events",)]
    with duckdb.connect(str(db)) as con:  # what an extract would bring: a deleted and a live "Events"
        con.execute(
            "create schema mailjet_api; create table mailjet_api.contact_lists (id bigint, name varchar, "
            "address varchar, is_deleted boolean, subscriber_count bigint, created_at timestamptz, "
            "_extracted_at timestamptz)"
        )
        con.execute(
            "insert into mailjet_api.contact_lists (id, name, is_deleted, _extracted_at) values "
            "(999, 'Events', true, now()), (1004, 'events', false, now())"
        )
    with open_pipeline(str(db)).sql_client() as client:
        publish_views(client)
    assert rows(db, "select list_id, list_name from mailjet.list_recipients") == [(1004, "events")]
    assert rows(db, "select id from mailjet.contact_lists order by id") == [(999,), (1004,)]


def test_a_later_file_without_names_keeps_earlier_names(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    load(db, write(tmp_path, "n1.csv", "email,name\nx1@example.com,Xavier One\nx2@example.com,Xena\n"))
    load(db, write(tmp_path, "n2.csv", "email,plan\nx1@example.com,gold\n"))
    load(db, write(tmp_path, "n3.csv", "email,name\nx2@example.com,\n"))
    assert contacts(db) == {"x1@example.com": "Xavier One", "x2@example.com": "Xena"}


def test_a_file_without_status_never_resubscribes(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    load(
        db,
        write(tmp_path, "s1.csv", "email,status\na@example.com,unsubscribed\nb@example.com,subscribed\n"),
        list_ref="L",
    )
    load(
        db,
        write(tmp_path, "s2.csv", "email,plan\na@example.com,gold\nb@example.com,gold\nc@example.com,x\n"),
        list_ref="L",
    )
    assert memberships(db) == {"a@example.com": True, "b@example.com": False, "c@example.com": False}
    # A later export that says subscribed is the newer word: it wins.
    load(db, write(tmp_path, "s3.csv", "email,status\na@example.com,subscribed\n"), list_ref="L")
    assert memberships(db)["a@example.com"] is False


def test_an_unsubscribe_on_a_rejected_row_still_counts(tmp_path: Path) -> None:
    content = (
        "email,name,status,plan\n"
        "a@example.com,A,yes,P\n"
        "a@example.com,A,no\n"  # one cell short: rejected, but it says unsubscribed
        "b@example.com,B,yes,P\n"
        f"b@example.com,B,no,{'x' * 5000}\n"  # over-long value: rejected, but it says unsubscribed
        "c@example.com,C,yes,P\n"
    )
    db = tmp_path / "t.duckdb"
    load(db, write(tmp_path, "r.csv", content), list_ref="L")
    assert memberships(db) == {"a@example.com": True, "b@example.com": True, "c@example.com": False}
    assert [line for line, _, _ in rejections(db)] == [3, 5]


def test_ids_derived_in_python_and_in_sql_agree() -> None:
    keys = ["ann@example.com", "list:spring promo", "1001:zoë@example.net"]
    with duckdb.connect() as con:
        in_sql = [con.sql(f"select {_id_sql('$k')}", params={"k": k}).fetchall()[0][0] for k in keys]
    assert in_sql == [synthetic_id(k) for k in keys]
    assert all(i < 0 for i in in_sql)


def test_a_duplicate_rows_status_does_not_resubscribe(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    load(db, write(tmp_path, "s1.csv", "email,status\nx@example.com,unsubscribed\n"), list_ref="L")
    # The row kept states nothing; only its rejected duplicate says subscribed.
    load(
        db,
        write(tmp_path, "s2.csv", "email,status\nx@example.com,\nX@example.com,subscribed\n"),
        list_ref="L",
    )
    assert memberships(db) == {"x@example.com": True}
