"""`audiences.sql` is parsed before anything runs: a mistake names the file, the audience, the line and
the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.sync.audiences import AudienceError, audiences_path, parse_audiences

pytestmark = pytest.mark.unit

GOOD = """\
-- Two audiences.

-- audience: newsletter
-- list: Newsletter            (Mailjet list name or ID)
-- on_exit: remove
-- properties: firstname, country
create or replace view audience_newsletter as
select lower(p.email) as email, p.firstname, p.country
from crm.profiles p;

-- audience: service
-- list: 1002
create or replace view audience_service as
select * from crm.profiles;
"""


def test_a_file_of_two_audiences() -> None:
    newsletter, service = parse_audiences(GOOD, "audiences.sql")
    assert (newsletter.name, newsletter.list_ref, newsletter.on_exit, newsletter.properties) == (
        "newsletter",
        "Newsletter",
        "remove",
        ("firstname", "country"),
    )
    assert newsletter.line == 3 and newsletter.view == "audience_newsletter"
    assert newsletter.sql.startswith("create or replace view audience_newsletter as")
    assert (service.list_ref, service.on_exit, service.properties) == ("1002", "keep", ())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("select 1", r"audiences.sql:1: SQL before the first `-- audience: NAME` header"),
        ("-- nothing here\n", r"audiences.sql: no audience"),
        (
            "-- audience: a\n-- list: L\ncreate view audience_a as select 1 as id",
            r"audiences.sql:1: audience 'a': the view yields no `email` column \(it yields id\)",
        ),
        (
            "-- audience: a\n-- list: L\n-- on_exit: delete\ncreate view audience_a as select 1 as email",
            r"audiences.sql:3: audience 'a': unknown on_exit 'delete'; use one of remove, unsub, keep",
        ),
        (
            "-- audience: a\n-- list: L\n\ncreate view audience_a as\nselect email from where",
            r"audiences.sql:5: audience 'a': SQL syntax error",
        ),
        (
            "-- audience: a\n-- list: L\n-- properties: city\ncreate view audience_a as select 'x' as email",
            r"audiences.sql:3: audience 'a': property city not among the view's columns \(email\)",
        ),
        (
            "-- audience: a\n-- list: L\ncreate view audience_b as select 'x' as email",
            r"the statement must create view audience_a \(found `create view audience_b`\)",
        ),
        ("-- audience: a\ncreate view audience_a as select 'x' as email", r"no `-- list: NAME_OR_ID` header"),
        (
            "-- audience: a\n-- list: L\ncreate view audience_a as select 'x' as email;\n"
            "-- audience: a\n-- list: M\ncreate view audience_a as select 'y' as email",
            r"audiences.sql:4: audience 'a' is defined twice \(first at line 1\)",
        ),
        ("-- audience: News Letter\n-- list: L\nselect 1", r"use lowercase letters, digits and underscores"),
        (  # a statement sqlglot keeps as a bare command: the line of the query that goes wrong
            "-- audience: a\n-- list: L\ncreate or replace view audience_a as\n\nselct k.email, from crm.k",
            r"audiences.sql:5: audience 'a': SQL syntax error \(",
        ),
        (
            "-- audience: a\n-- list: L\ncreate or replace vew audience_a as select 'x' as email",
            r"audiences.sql:3: audience 'a': SQL syntax error: the statement cannot be read as "
            r"`create or replace view audience_a as select \.\.\.`",
        ),
    ],
)
def test_mistakes_name_the_line_and_the_fix(
    text: str, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(AudienceError, match=message) as caught:
        parse_audiences(text, "audiences.sql")
    assert caught.value.exit_code == 2
    assert not [r for r in caplog.records if r.name.startswith("sqlglot")], (
        "the message says it: no sqlglot line"
    )


@pytest.mark.parametrize(
    ("header", "list_ref"),
    [
        ("-- list: Newsletter (EN)", "Newsletter (EN)"),
        ("-- list: Newsletter    (the main one)", "Newsletter"),
        ("-- list: 1001", "1001"),
    ],
)
def test_a_list_name_may_end_in_parentheses(header: str, list_ref: str) -> None:
    [audience] = parse_audiences(
        f"-- audience: a\n{header}\ncreate view audience_a as select 'x' as email", "audiences.sql"
    )
    assert audience.list_ref == list_ref


def test_two_audiences_cannot_feed_one_list() -> None:
    text = (
        "-- audience: a\n-- list: News\ncreate view audience_a as select 'x' as email\n"
        "-- audience: b\n-- list: news\ncreate view audience_b as select 'y' as email\n"
    )
    with pytest.raises(AudienceError, match=r"audiences.sql:4: audiences 'a' and 'b' both feed list 'news'"):
        parse_audiences(text, "audiences.sql")


def test_the_permission_header() -> None:
    [audience] = parse_audiences(
        "-- audience: a\n-- list: L\n-- permission: Email_Newsletter\n"
        "create view audience_a as select 'x' as email",
        "audiences.sql",
    )
    assert audience.permission == "email_newsletter"
    with pytest.raises(AudienceError, match="permission 'email newsletter': use lowercase"):
        parse_audiences(
            "-- audience: a\n-- list: L\n-- permission: email newsletter\n"
            "create view audience_a as select 'x' as email",
            "audiences.sql",
        )


def test_the_audiences_file_is_the_given_one_then_the_local_one_then_the_shipped_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    shipped = tmp_path / "clone" / "audiences.sql"
    with pytest.raises(AudienceError, match=r"no audiences file: .* --audiences PATH"):
        audiences_path(None, shipped)  # an installed package, run where there is no audiences.sql
    shipped.parent.mkdir()
    shipped.write_text("-- shipped\n", encoding="utf-8")
    assert audiences_path(None, shipped) == shipped
    (tmp_path / "audiences.sql").write_text("-- mine\n", encoding="utf-8")
    assert audiences_path(None, shipped) == Path("audiences.sql")
    assert audiences_path("other.sql", shipped) == Path("other.sql")
