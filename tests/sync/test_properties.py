"""Property-based tests of the plan over random CRM and Mailjet states (hypothesis): whatever the state,
no plan adds anyone who is a member of the list (unsubscribed ones above all), and no plan removes, or
unsubscribes on leaving, a contact the sync did not add."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.sync.audiences import parse_audiences
from pipelines.sync.config import SyncConfiguration
from pipelines.sync.plan import plan_with
from pipelines.warehouse import open_pipeline
from pipelines.warehouse.datasets import API_DATASET
from tests.sync.world import Person, World, audiences_file

EMAILS = ("a@x.com", "b@x.com", "c@x.com", "d@x.com", "e@x.com", "f@x.com", "not-an-email")
days = st.one_of(st.none(), st.integers(0, 9))
values = st.sampled_from([None, "Ann", "Bea"])

people = st.builds(
    Person,
    email=st.sampled_from(EMAILS),
    in_audience=st.booleans(),
    profile=st.tuples(values, st.sampled_from([None, "FR", "DE"])),
    in_mailjet=st.booleans(),
    member=st.sampled_from([None, "subscribed", "unsubscribed"]),
    subscribed=days,
    unsubscribed=days,
    consents=st.lists(st.tuples(st.booleans(), st.integers(0, 9)), max_size=3).map(tuple),
    excluded=st.booleans(),
    spam=st.booleans(),
    hard_bounce=st.booleans(),
    mailjet_props=st.tuples(values, st.sampled_from([None, "FR", "DE"])),
    managed=st.booleans(),
    extra_rows=st.integers(0, 1),
    crm_upper=st.booleans(),
)
# Each address at most once (one Mailjet contact per address).
worlds = st.lists(people, min_size=1, max_size=len(EMAILS), unique_by=lambda p: p.email)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    db = tmp_path_factory.mktemp("properties") / "p.duckdb"
    World([]).build(db)
    with open_pipeline(str(db), None, API_DATASET).sql_client() as opened:
        yield opened


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    state=worlds,
    on_exit=st.sampled_from(["remove", "unsub", "keep"]),
    permission=st.sampled_from(["email_newsletter", None]),
)
def test_no_plan_adds_a_member_or_touches_an_unmanaged_contact(
    client: Any, state: list[Person], on_exit: str, permission: str | None
) -> None:
    native: duckdb.DuckDBPyConnection = client.native_connection
    World(state).write(native)
    audiences = parse_audiences(audiences_file(on_exit=on_exit, permission=permission), "audiences.sql")
    [plan] = plan_with(
        client, audiences, audiences, Path("audiences.sql"), SyncConfiguration(), datetime.now(UTC)
    )
    rows = native.execute(
        "select email, action, reason from mailjet_sync.sync_plan where run_id = ?", [plan.run_id]
    ).fetchall()
    people = {p.email: p for p in state}
    seen: set[tuple[str, str]] = set()
    for email, action, reason in rows:
        person = people[email]
        assert (email, action) not in seen, f"two {action} rows for {email}"
        seen.add((email, action))
        in_list = person.in_mailjet and person.member is not None
        if action == "addnoforce":
            assert not in_list, f"{email} is a member ({person.member}) yet planned as an add"
            assert person.in_audience
            assert not (person.in_mailjet and (person.excluded or person.spam or person.hard_bounce))
            assert person.extra_rows == 0, "a row that failed a data test was planned"
        elif action == "remove" or (action == "unsub" and reason != "consent_withdrawn"):
            assert person.managed, f"{email} was not added by the sync yet planned as {action} ({reason})"
            assert person.member == "subscribed", f"{email} is {person.member}, planned as {action}"
        elif action == "unsub":
            assert permission is not None and person.member == "subscribed"
            assert any(not granted for granted, _ in person.consents) or person.member == "subscribed"
        else:
            assert action == "update"
            assert person.member == "subscribed" and person.in_audience
    # The run row agrees with its plan rows.
    counts = native.execute(
        "select adds, unsubs, removes, updates from mailjet_sync.sync_runs where run_id = ?", [plan.run_id]
    ).fetchone()
    by_action = [sum(1 for _, a, _ in rows if a == k) for k in ("addnoforce", "unsub", "remove", "update")]
    assert list(counts or ()) == by_action
