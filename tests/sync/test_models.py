"""The SQL of the sync engine (`pipelines/models/sync/*.sql`): each file one statement with a header,
written in DuckDB's dialect, transpiled to DuckDB and Postgres, its values bind parameters; the
statements the engine assembles per audience; the ledger's readings of CRM columns, run on an in-memory
DuckDB."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import duckdb
import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, UnsupportedError

from pipelines.models import SYNC_FOLDER, load, placeholders, render, statement, to_sql
from pipelines.models.norm import expand_norm
from pipelines.models.written import write
from pipelines.sync.audience_sql import audience_sql, frame_sql
from pipelines.sync.audiences import Audience
from pipelines.sync.diff import (
    DiffInput,
    changes_args,
    changes_sql,
    current_sql,
    json_without_nulls,
    state_sql,
    updates_sql,
)
from pipelines.sync.ledger_query import crm_events, ledger_sql, list_permissions_relation, lists_sql

pytestmark = pytest.mark.unit

NAMES = sorted(p.stem for p in SYNC_FOLDER.glob("*.sql"))
DIALECTS = ("duckdb", "postgres")
PARAMETERS = {  # the statements taking bind parameters, and how many
    "consent_future": 1,
    "consent_future_any": 1,
    "consent_rejections": 7,
    "data_test_rejections": 4,
    "diff_consent": 1,
    "diff_managed": 2,
    "diff_members": 1,
    "diff_state": 1,
    "list_applied_at": 3,
    "plan_actions": 1,
    "plan_changes": 6,
    "plan_held": 5,
    "plan_left_out": 1,
    "plan_samples": 2,
    "plan_updates": 3,
    "record_kept": 1,
    "record_unsubscriptions": 1,
    "removed_within": 2,
    "run_record": 22,
    "run_supersede": 1,
    "snapshot_observe": 3,
    "snapshot_release": 3,
    "unmatched_members": 1,
}


def diff_input(properties: tuple[str, ...] = (), dialect: str = "duckdb") -> DiffInput:
    return DiffInput(
        run_id=1,
        audience="news",
        list_id=10,
        member_list_id=10,
        permission="email_newsletter",
        on_exit="remove",
        properties=properties,
        exits_allowed=True,
        dialect=dialect,
    )


def test_there_are_sync_statements() -> None:
    assert {"consent_ledger", "consent_current", "diff_members", "plan_changes", "plan_held"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_each_file_is_one_statement_with_a_header_and_no_pasted_value(name: str) -> None:
    text = load(name)
    assert text.startswith("-- "), name
    assert "{" not in text and "}" not in text and "%" not in text, name
    assert len([s for s in sqlglot.parse(text, read="duckdb") if s is not None]) == 1, name
    assert placeholders(statement(name)) == PARAMETERS.get(name, 0), name


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("name", NAMES)
def test_each_statement_transpiles_and_reads_back(name: str, dialect: str) -> None:
    sql = render(name, dialect)
    again = sqlglot.parse_one(sql, read=dialect)
    assert isinstance(again, exp.Expression)
    marker = "%s" if dialect == "postgres" else "?"
    assert sql.count(marker) == PARAMETERS.get(name, 0), sql


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("properties", [(), ("firstname",), ("firstname", "Country")], ids=len)
def test_per_property_statements_repeat_their_terms(properties: tuple[str, ...], dialect: str) -> None:
    d = diff_input(properties, dialect)
    for sql in (changes_sql(d), state_sql(d), current_sql(d), updates_sql(d) if properties else ""):
        if sql:
            sqlglot.parse_one(sql, read=dialect)
    updates = updates_sql(d) if properties else ""
    for i, name in enumerate(properties):
        assert f"a.p_{i}" in state_sql(d)
        assert f"'{name.lower()}'" in current_sql(d) and f" AS p_{i}" in current_sql(d)
        assert f"'{name}'" in updates and f"c.p_{i}" in updates
    assert f"p_{len(properties)}" not in state_sql(d) + current_sql(d) + updates
    assert len(changes_args(d)) == placeholders(sqlglot.parse_one(changes_sql(d), read=dialect))


def test_json_without_nulls_is_one_expression_written_per_engine() -> None:
    pairs = [("a", exp.column("x")), ("b", exp.column("y"))]
    built = exp.select(json_without_nulls(pairs))
    assert (
        to_sql(built, "duckdb") == "SELECT CAST(JSON_MERGE_PATCH('{}', JSON_OBJECT('a', x, 'b', y)) AS TEXT)"
    )
    assert (
        to_sql(built, "postgres")
        == "SELECT CAST(JSON_STRIP_NULLS(JSON_BUILD_OBJECT('a', x, 'b', y)) AS TEXT)"
    )
    assert to_sql(built, "snowflake") == "SELECT TO_JSON(OBJECT_CONSTRUCT('a', x, 'b', y))"
    assert to_sql(exp.select(json_without_nulls([])), "postgres") == "SELECT CAST(NULL AS VARCHAR)"
    with pytest.raises(UnsupportedError, match="no rendering for mysql"):
        write(built, "mysql", unsupported_level=ErrorLevel.RAISE)


def test_json_without_nulls_drops_the_nulls_in_duckdb() -> None:
    built = json_without_nulls([("first", exp.column("x")), ("last", exp.column("y"))])
    sql = f"{to_sql(exp.select(built), 'duckdb')} from (values ('Ann', null), (null, null)) as t (x, y)"
    assert duckdb.sql(sql).fetchall() == [('{"first":"Ann"}',), ("{}",)]


def test_the_audience_is_read_by_its_views_query_from_the_runs_copy_of_consent() -> None:
    view = (
        "create or replace view audience_news as select k.email as EMail, p.firstname as FirstName "
        "from consent_current k join crm.profiles p on p.email = k.email where k.granted"
    )
    item = Audience("news", "1", "remove", ("firstname", "zip"), view, 1)
    sql = audience_sql(item, ["EMail", "FirstName"], "duckdb")
    tree = sqlglot.parse_one(sql, read="duckdb")
    assert {(t.db, t.name) for t in tree.find_all(exp.Table)} == {
        ("", "_consent_current"),
        ("crm", "profiles"),
        ("", "_aud"),
    }
    assert '"EMail"' in sql and '"FirstName"' in sql and " AS p_0" in sql and "p_1" not in sql
    frame = sqlglot.parse_one(frame_sql(item, ["EMail", "FirstName"], "duckdb"), read="duckdb")
    assert isinstance(frame, exp.Select)
    assert frame.named_selects == ["email", "firstname"]


def with_norm() -> duckdb.DuckDBPyConnection:
    """An in-memory database, with nothing defined: the statements carry the normalization themselves."""
    return duckdb.connect()


NORM_OF_VALUE = "select mailjet_sync.norm(v) from (select cast(? as varchar) as v)"
# A value, and its normalization: on every engine (tests/postgres/test_norm.py runs them on PostgreSQL).
NORMALIZED = [
    pytest.param("Ann@X.com", "ann@x.com", id="case"),
    pytest.param(" ann@x.com ", "ann@x.com", id="spaces"),
    pytest.param("ann@x.com\u00a0", "ann@x.com", id="no-break-space"),
    pytest.param("\tann@x.com\r\n", "ann@x.com", id="tab-and-line-break"),
    pytest.param("\ufeffann@x.com\u200b", "ann@x.com", id="bom-and-zero-width"),
    pytest.param("\u3000\u2003ANN@X.COM\u202f", "ann@x.com", id="wide-spaces"),
    pytest.param("Email_Newsletter\t", "email_newsletter", id="permission"),
    pytest.param(" \u00a0\t", None, id="blank-is-null"),
    pytest.param(None, None, id="null"),
    pytest.param("ann\u00a0@x.com", "ann @x.com", id="inner-blank-stays-invalid"),
    pytest.param("", None, id="empty-is-null"),
    pytest.param("ann@x.com\n", "ann@x.com", id="final-line-feed"),
    pytest.param("ann@x.com\r", "ann@x.com", id="final-carriage-return"),
    pytest.param("ann@x.com\u2028", "ann@x.com", id="final-line-separator"),
    pytest.param("ann@x.com\u2029", "ann@x.com", id="final-paragraph-separator"),
    pytest.param("ann@x.com\u0085", "ann@x.com", id="final-next-line"),
    pytest.param("ann@x.com\n\n", "ann@x.com", id="final-line-feeds"),
    pytest.param("ann@x.com\u00a0\n", "ann@x.com", id="no-break-space-then-line-feed"),
    pytest.param("~ ANN@X.COM !", "~ ann@x.com !", id="printable-ascii-ends-kept"),
    pytest.param("\x7fann@x.com", "\x7fann@x.com", id="delete-is-no-blank"),
    pytest.param("Ärger@X.com", "ärger@x.com", id="non-ascii-letter"),
    pytest.param("\u00a0\u00a0ann@x.com\u200b\ufeff", "ann@x.com", id="every-blank-not-the-first"),
    pytest.param("a\u00a0b\u3000c\td", "a b c d", id="every-inner-blank-a-space"),
]
# The blanks, and a reference normalization in Python: what the expression must give for any value.
BLANKS = (
    "\t\n\x0b\x0c\r\x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200E)))
    + ("\u2028\u2029\u202f\u205f\u2060\u3000\ufeff")
)


def reference_norm(value: str) -> str | None:
    spaced = "".join(" " if c in BLANKS else c for c in value).strip(" ").lower()
    return spaced or None


def fuzzed_values(count: int, seed: int) -> list[str]:
    """Values mixing blanks (often several, anywhere) with ASCII and a few other letters."""
    rng = random.Random(seed)
    alphabet = BLANKS + "aZ@._-+ ~!" + "\x7f" + "ÄéØ" + "\u200e"
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(count)]


def test_the_normalization_of_any_value_is_the_reference_one() -> None:
    values = fuzzed_values(5_000, seed=7)
    query = to_sql(
        expand_norm(sqlglot.parse_one("select v, mailjet_sync.norm(v) from t", read="duckdb")), "duckdb"
    )
    con = with_norm()
    con.execute("create table t (v varchar)")
    con.executemany("insert into t values (?)", [[v] for v in values])
    wrong = [(v, got) for v, got in con.execute(query).fetchall() if got != reference_norm(v)]
    assert not wrong, wrong[:5]


@pytest.mark.parametrize(("given", "normal"), NORMALIZED)
def test_one_normalization_trims_unicode_blanks_and_lowercases(given: str | None, normal: str | None) -> None:
    query = to_sql(expand_norm(sqlglot.parse_one(NORM_OF_VALUE, read="duckdb")), "duckdb")
    assert with_norm().execute(query, [given]).fetchone() == (normal,)
    # Of a bind parameter (read once): the same result.
    query = to_sql(expand_norm(sqlglot.parse_one("select mailjet_sync.norm(?)", read="duckdb")), "duckdb")
    assert "case" not in query.lower() and query.count("?") == 1
    assert with_norm().execute(query, [given]).fetchone() == (normal,)


def crm_table(kind: str, values: list[tuple[object, object]]) -> duckdb.DuckDBPyConnection:
    con = with_norm()
    con.execute("create schema crm")
    con.execute(
        f'create table crm.consent_events (email varchar, permission varchar, granted {kind}, "at" {kind})'
    )
    con.executemany("insert into crm.consent_events values ('a@x.com', 'news', ?, ?)", values)
    return con


def read_crm(con: duckdb.DuckDBPyConnection, columns: dict[str, str]) -> list[tuple[object, ...]]:
    return con.sql(crm_events(columns).sql("duckdb") + " order by granted_given").fetchall()


def test_the_crm_reads_text_as_granted_or_withdrawn() -> None:
    con = crm_table(
        "varchar", [(" Yes", "2026-01-31T12:00:00Z"), ("opt-out", "2026-02-01"), ("maybe", "2026-02-02")]
    )
    read = read_crm(con, {"email": "varchar", "permission": "varchar", "granted": "varchar", "at": "varchar"})
    assert [(r[2], r[5]) for r in read] == [(True, " Yes"), (None, "maybe"), (False, "opt-out")]
    assert {r[4] for r in read} == {"crm"}
    assert read[0][3] == datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


def test_the_crm_reads_numbers_as_granted_unless_zero_and_at_as_unix_seconds() -> None:
    con = crm_table("bigint", [(2, 1767225600), (0, 1767225600)])
    read = read_crm(con, {"email": "varchar", "permission": "varchar", "granted": "bigint", "at": "bigint"})
    assert [r[2] for r in read] == [False, True]
    assert read[0][3] == datetime(2026, 1, 1, tzinfo=UTC)


def test_a_crm_not_loaded_reads_as_no_event() -> None:
    assert with_norm().sql(crm_events({}).sql("duckdb")).fetchall() == []


def test_the_ledger_maps_lists_to_permissions_as_literals() -> None:
    relation = list_permissions_relation({2: "email_service", 1: "email_newsletter"})
    assert duckdb.sql(relation.sql("duckdb")).fetchall() == [(1, "email_newsletter"), (2, "email_service")]
    assert duckdb.sql(list_permissions_relation({}).sql("duckdb")).fetchall() == []
    for dialect in DIALECTS:
        assert "'it''s'" in lists_sql(dialect, {1: "it's"})
        sql = ledger_sql(dialect, {}, {})
        tree = sqlglot.parse_one(sql, read=dialect)
        assert ("mailjet_sync", "consent_lists") in {(t.db, t.name) for t in tree.find_all(exp.Table)}
        assert ("mailjet_api", "events") not in {(t.db, t.name) for t in tree.find_all(exp.Table)}
        assert ("crm", "consent_events") not in {(t.db, t.name) for t in tree.find_all(exp.Table)}
    received = ledger_sql(
        "duckdb", {}, {"event": "varchar", "email": "varchar", "time": "bigint", "mj_list_id": "bigint"}
    )
    assert "TO_TIMESTAMP(time)" in received


@pytest.mark.unit
def test_norm_in_a_correlated_not_exists_is_a_hash_join_never_a_cross_product() -> None:
    """The ledger asks `not exists (... where s.email = mailjet_sync.norm(c.email))`: DuckDB must join the
    two sides on the normalized value. An expression that tests its value first (a `case`) made DuckDB
    compare every pair: hours at 100,000 members, where a hash join takes a fraction of a second."""
    con = with_norm()
    con.execute("create table c as select 'U' || i || '@x.com' as email from range(10) r(i)")
    con.execute("create table s as select 'u' || i || '@x.com' as email from range(10) r(i)")
    query = (
        "select count(*) from c where not exists (select 1 from s where s.email = mailjet_sync.norm(c.email))"
    )
    written = to_sql(expand_norm(sqlglot.parse_one(query, read="duckdb")), "duckdb")
    row = con.execute(f"explain {written}").fetchone()
    assert row is not None
    plan = str(row[1])
    assert "Hash Join" in plan and "Cross Product" not in plan and "Nested Loop" not in plan, plan
    assert con.execute(written).fetchone() == (0,)
