"""Property-based test of consent over random two-step histories (hypothesis). Each person has CRM consent
rows spelled with Unicode blanks and capitals (in the address and in the permission), a membership of the
list (subscribed by themselves or by the sync, or unsubscribed), and a second extract in which Mailjet
erased the membership, or the person subscribed again by themselves. Over every history, the second plan
re-subscribes nobody, loses no withdrawal and overrides nobody's own subscription; a consent event dated in
the future stops the first plan."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.errors import CommandError
from pipelines.sync.audiences import parse_audiences
from pipelines.sync.config import SyncConfiguration
from pipelines.sync.plan import plan_with
from pipelines.sync.tables import create_tables
from pipelines.warehouse import open_pipeline
from pipelines.warehouse.datasets import API_DATASET
from tests.sync.world import PERMISSION, Person, World, audiences_file

BLANKS = ("", " ", "\t", "\u00a0", "\u200b", "\ufeff", "\r\n", "\u3000")
FUTURE = 10_000  # a day after 2050: a mistyped year


def spelled(text: str) -> st.SearchStrategy[str]:
    """`text` with blanks around it and its letters in any case."""
    cases = st.sampled_from([text, text.upper(), text.title()])
    return st.builds(lambda a, t, b: a + t + b, st.sampled_from(BLANKS), cases, st.sampled_from(BLANKS))


@dataclass(frozen=True)
class History:
    """One person's history: CRM consent rows (granted, day, email as spelled, permission as spelled); a
    first membership: none, ("subscribed", day, by the sync?) or ("unsubscribed", subscribed day,
    unsubscribed day); what the second extract shows: "same", "erased", or ("again", day)."""

    email: str
    in_audience: bool
    consents: tuple[tuple[bool, int, str, str], ...]
    first: tuple[Any, ...] | None
    second: Any

    def events(self, sync_owns: bool, subscribed_on: int | None) -> list[tuple[int, bool]]:
        """The consent events the second plan knows: the CRM's, a recorded unsubscription, and the
        person's own subscription (when it is not the sync's)."""
        events = [(day, granted) for granted, day, _, _ in self.consents]
        if self.first is not None and self.first[0] == "unsubscribed":
            events.append((self.first[2], False))
        if subscribed_on is not None and not sync_owns:
            events.append((subscribed_on, True))
        return events


@st.composite
def histories(draw: st.DrawFn, email: str) -> History:
    day = st.integers(0, 12)
    consents = draw(
        st.lists(st.tuples(st.booleans(), day, spelled(email), spelled(PERMISSION)), max_size=3).map(tuple)
    )
    first = draw(
        st.one_of(
            st.none(),
            st.tuples(st.just("subscribed"), day, st.booleans()),
            st.tuples(st.just("unsubscribed"), st.integers(0, 5), st.integers(6, 12)),
        )
    )
    second: Any = draw(
        st.one_of(st.just("same"), st.just("erased"), st.tuples(st.just("again"), st.integers(13, 20)))
    )
    if first is None:
        second = "same"
    return History(email, draw(st.booleans()), consents, first, second)


people = st.tuples(*(histories(f"p{i}@x.com") for i in range(5)))


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    db = tmp_path_factory.mktemp("consent") / "c.duckdb"
    World([]).build(db)
    with open_pipeline(str(db), None, API_DATASET).sql_client() as opened:
        create_tables(opened)
        yield opened


def first_world(h: History) -> Person:
    member, subscribed, unsubscribed, managed = None, None, None, False
    if h.first is not None and h.first[0] == "subscribed":
        member, subscribed, managed = "subscribed", h.first[1], h.first[2]
    elif h.first is not None:
        member, subscribed, unsubscribed = "unsubscribed", h.first[1], h.first[2]
    return Person(
        h.email,
        in_audience=h.in_audience,
        member=member,
        subscribed=subscribed,
        unsubscribed=unsubscribed,
        consents=(),
        managed=managed,
        mailjet_props=(None, None),
        profile=(None, None),
    )


def second_world(h: History) -> tuple[Person, bool, int | None]:
    """The second extract's person, whether the sync still owns the membership, and the day of the
    subscription Mailjet shows (None: not subscribed)."""
    person = first_world(h)
    if h.second == "erased":
        return (
            Person(h.email, in_audience=h.in_audience, member=None, consents=(), profile=(None, None)),
            False,
            None,
        )
    if h.second != "same":
        again = Person(
            h.email,
            in_audience=h.in_audience,
            member="subscribed",
            subscribed=h.second[1],
            consents=(),
            mailjet_props=(None, None),
            profile=(None, None),
        )
        return again, False, h.second[1]
    owned = person.managed
    return person, owned, person.subscribed if person.member == "subscribed" else None


def write(
    native: duckdb.DuckDBPyConnection, world: list[Person], story: tuple[History, ...], snapshot: bool
) -> None:
    World(world).write(native, snapshot=snapshot)
    for h in story:
        for granted, day, email, permission in h.consents:
            native.execute(
                "insert into crm.consent_events "
                "values (?, ?, ?, timestamptz '2026-01-01' + to_days(?), 'crm')",
                [email, permission, granted, day],
            )


def latest(events: list[tuple[int, bool]]) -> bool | None:
    """Whether the latest event is a grant (a withdrawal wins a tie); None without events."""
    if not events:
        return None
    return max(events, key=lambda e: (e[0], not e[1]))[1]


def plan_once(client: Any, on_exit: str) -> dict[str, set[str]]:
    audiences = parse_audiences(audiences_file(on_exit=on_exit), "audiences.sql")
    [result] = plan_with(
        client, audiences, audiences, Path("audiences.sql"), SyncConfiguration(), datetime.now(UTC)
    )
    rows = client.native_connection.execute(
        "select email, action from mailjet_sync.sync_plan where run_id = ?", [result.run_id]
    ).fetchall()
    out: dict[str, set[str]] = {}
    for email, action in rows:
        out.setdefault(str(email), set()).add(str(action))
    return out


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(story=people, on_exit=st.sampled_from(["remove", "unsub"]), typo=st.integers(-1, 4))
def test_no_resubscription_no_lost_withdrawal_no_own_subscription_overridden(
    client: Any, story: tuple[History, ...], on_exit: str, typo: int
) -> None:
    native: duckdb.DuckDBPyConnection = client.native_connection
    native.execute("delete from mailjet_sync.sync_unsubscriptions")
    if typo >= 0 and story[typo].consents:  # one consent row dated in the future
        h = story[typo]
        granted, _, email, permission = h.consents[0]
        story = (
            *story[:typo],
            History(
                h.email,
                h.in_audience,
                ((granted, FUTURE, email, permission), *h.consents[1:]),
                h.first,
                h.second,
            ),
            *story[typo + 1 :],
        )
    write(native, [first_world(h) for h in story], story, snapshot=True)
    if any(day == FUTURE for h in story for _, day, _, _ in h.consents):
        with pytest.raises(CommandError, match="dated in the future"):
            plan_once(client, on_exit)
        return
    plan_once(client, on_exit)

    second = {h.email: second_world(h) for h in story}
    write(native, [p for p, _, _ in second.values()], story, snapshot=False)
    planned = plan_once(client, on_exit)

    for h in story:
        _, owned, subscribed_on = second[h.email]
        actions = planned.get(h.email, set())
        grant = latest(h.events(owned, subscribed_on))
        unsubscribed_at = h.first[2] if h.first is not None and h.first[0] == "unsubscribed" else None
        member_now = (h.first is not None and h.second == "same") or isinstance(h.second, tuple)
        if "addnoforce" in actions:
            assert not member_now, f"{h}: a member of the list planned as an add"
            assert grant is True, f"{h}: added without a grant as the latest event"
            if unsubscribed_at is not None:
                later = [d for g, d, _, _ in h.consents if g and d > unsubscribed_at]
                assert later, f"{h}: re-subscribed with no grant after their unsubscription"
        if subscribed_on is not None and grant is False:
            assert "unsub" in actions, f"{h}: a withdrawal was lost"
        if subscribed_on is not None and not owned and grant is True:
            assert not actions & {"unsub", "remove"}, f"{h}: their own subscription was overridden: {actions}"
        if actions & {"remove"} or ("unsub" in actions and grant is not False):
            assert owned, f"{h}: {actions} for a membership the sync does not own"
