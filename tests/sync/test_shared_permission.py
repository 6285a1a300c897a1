"""Two lists whose audiences declare one permission are linked: Mailjet's state of either is consent for
both. The plan says which lists share the permission, and evidence drawn from a list names that list."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from pipelines.plan import PlanResult, plan
from pipelines.report import as_json, text
from pipelines.sync.config import SyncConfiguration
from tests.sync.world import LIST_ID, LIST_NAME, START, Person, World, audiences_file, day

OTHER_ID, OTHER_NAME = LIST_ID + 1, "Other list"  # the world's second list
OTHER_AUDIENCE = (
    "-- audience: other\n-- list: {list}\n-- permission: email_newsletter\n"
    "create or replace view audience_other as select email from crm.profiles where false\n"
)
# email -> (subscribed to, unsubscribed from the other list on that day): None for no membership there.
OTHER_LIST = {
    "unsubscribed.there@x.com": (None, 5),
    "subscribed.there@x.com": (4, None),
    "held.there@x.com": (None, 5),
}
PEOPLE = [
    Person("unsubscribed.there@x.com", member="subscribed", subscribed=3, consents=((True, 2),)),
    Person("subscribed.there@x.com", consents=()),
    Person("held.there@x.com", consents=((True, 2),)),
    Person("withdrew.in.crm@x.com", member="subscribed", subscribed=3, consents=((False, 5),)),
    Person("alone@x.com"),
]


def stamp(n: int) -> str:
    """Day `n` as evidence writes a time (in UTC)."""
    return f"{START + timedelta(days=n):%Y-%m-%d %H:%M:%S}+00"


def build(tmp_path: Path) -> Path:
    """The world of PEOPLE, with their memberships of the other list."""
    db = tmp_path / "sync.duckdb"
    World(PEOPLE).build(db)
    with duckdb.connect(str(db)) as con:
        for number, person in enumerate(PEOPLE, start=1):
            if person.email not in OTHER_LIST:
                continue
            subscribed, unsubscribed = OTHER_LIST[person.email]
            con.execute(
                "insert into mailjet_api.list_recipients (id, contact_id, list_id, list_name, "
                "is_unsubscribed, is_active, subscribed_at, unsubscribed_at, _extracted_at) "
                "values (?, ?, ?, ?, ?, true, ?, ?, now())",
                [
                    100 + number,
                    number,
                    OTHER_ID,
                    OTHER_NAME,
                    unsubscribed is not None,
                    day(subscribed or 1),
                    day(unsubscribed),
                ],
            )
    return db


def plan_news(tmp_path: Path, db: Path, other_list: str) -> PlanResult:
    """Plan the `news` audience, beside an audience of the other list (named `other_list`) with the same
    permission."""
    source = tmp_path / "audiences.sql"
    source.write_text(audiences_file() + OTHER_AUDIENCE.format(list=other_list), encoding="utf-8")
    return plan(
        db=str(db), audiences=str(source), audience="news", config=SyncConfiguration(max_removal_pct=100)
    )


def evidence(db: Path) -> dict[str, tuple[str, str]]:
    """email -> (action or the reason held back, its evidence) of the latest run."""
    with duckdb.connect(str(db), read_only=True) as con:
        run = "(select max(run_id) from mailjet_sync.sync_runs)"
        rows = con.execute(
            f"select email, action, evidence from mailjet_sync.sync_plan where run_id = {run} "
            f"union all select email, reason, detail from mailjet_sync.sync_rejections where run_id = {run}"
        ).fetchall()
    return {str(email): (str(what), str(said)) for email, what, said in rows}


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory) -> tuple[PlanResult, Path]:
    tmp_path = tmp_path_factory.mktemp("linked")
    db = build(tmp_path)
    return plan_news(tmp_path, db, OTHER_NAME), db


def test_the_plan_names_the_lists_that_share_its_permission(linked: tuple[PlanResult, Path]) -> None:
    result, _ = linked
    assert result.plans[0].shared_by == (LIST_NAME, OTHER_NAME)
    assert (
        f'  permission email_newsletter is shared by lists "{LIST_NAME}", "{OTHER_NAME}": an unsubscription '
        "from one withdraws consent for all"
    ) in text(result).splitlines()
    assert json.loads(as_json(result))["plans"][0]["shared_by"] == [LIST_NAME, OTHER_NAME]


def test_evidence_drawn_from_a_list_names_it(linked: tuple[PlanResult, Path]) -> None:
    _, db = linked
    said = evidence(db)
    assert said["unsubscribed.there@x.com"] == (
        "unsub",
        f'withdrawn {stamp(5)} (mailjet, list "{OTHER_NAME}"); subscribed {stamp(3)}',
    )
    assert said["subscribed.there@x.com"] == (
        "addnoforce",
        f'consent granted {stamp(4)} (mailjet, list "{OTHER_NAME}")',
    )
    assert said["held.there@x.com"] == (
        "consent_withdrawn",
        f'consent withdrawn {stamp(5)} (mailjet, list "{OTHER_NAME}")',
    )
    assert said["withdrew.in.crm@x.com"] == ("unsub", f"withdrawn {stamp(5)} (crm); subscribed {stamp(3)}")
    assert said["alone@x.com"] == ("addnoforce", f"consent granted {stamp(2)} (crm)")


def test_a_list_without_a_name_is_named_by_its_id(tmp_path: Path) -> None:
    db = build(tmp_path)
    with duckdb.connect(str(db)) as con:
        con.execute("update mailjet_api.contact_lists set name = null where id = ?", [OTHER_ID])
    plan_news(tmp_path, db, str(OTHER_ID))
    assert evidence(db)["unsubscribed.there@x.com"][1].startswith(
        f"withdrawn {stamp(5)} (mailjet, list ID {OTHER_ID});"
    )
