"""Typed contact properties against the sandbox under its property quirks (each alone and together): an
audience with an int, a float, a bool, a timestamp and a text column, and two properties Mailjet defines
already, synced twice. Definitions are created with their column's datatype, the values reach Mailjet as
their definitions' types take them, a value a definition cannot take is that contact's rejection only, and
nothing is updated twice."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.apply import apply
from pipelines.extract import extract
from pipelines.load import load
from pipelines.plan import plan
from pipelines.sync.config import SyncConfiguration
from tests.conftest import Api, creds, start

PEOPLE = 6
BAD = 5  # the person whose `level` is not a whole number
PROPERTIES = ("age", "score", "vip", "joined_at", "city", "visits", "level")
AUDIENCE = (
    "-- audience: typed\n-- list: Typed\n-- on_exit: remove\n"
    "-- properties: Age, score, vip, joined_at, city, visits, level\n"
    'create or replace view audience_typed as select email, cast(age as integer) as "Age", '
    "cast(score as double) as score, cast(vip as boolean) as vip, cast(joined_at as timestamp) as joined_at, "
    "cast(city as varchar) as city, cast(visits as integer) as visits, cast(level as varchar) as level "
    "from crm.profiles\n"
)
# What the plan reads of Mailjet (a partial extract: the test needs no campaign or message).
RESOURCES = "contacts,contact_lists,list_recipients,contact_properties,contact_property_definitions"
READINGS = [
    pytest.param("strict-property-types", id="strict-types"),
    pytest.param("property-names-lowercased", id="names-lowercased"),
    pytest.param("strict-property-types,property-names-lowercased", id="both"),
]


@pytest.fixture
def typed(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """A small sandbox under the quirks of the test's reading."""
    app = start(contacts=40, messages=0, quirks=request.param)
    api = Api(app)
    for name, value in creds(api).items():
        monkeypatch.setenv(name, value)
    yield api
    app.stop()


def values_of(api: Api, email: str) -> dict[str, object]:
    """A contact's values of the audience's properties as Mailjet lists them (names lower-cased)."""
    [contact] = api.data(f"contact/{email}")
    [data] = api.data(f"contactdata/{contact['ID']}")
    found = {str(p["Name"]).lower(): p["Value"] for p in data["Data"]}
    return {k: v for k, v in found.items() if k in PROPERTIES}


def members(api: Api, list_id: int) -> set[str]:
    """The list's members' addresses, as Mailjet shows them now."""
    emails = {c["ID"]: str(c["Email"]).lower() for c in api.data("contact", Limit=1000)}
    return {emails[r["ContactID"]] for r in api.data("listrecipient", ContactsList=list_id, Limit=1000)}


def planned(db: Path, run_id: int) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "select email, action, properties from mailjet_sync.sync_plan where run_id = ? order by email",
            [run_id],
        ).fetchall()


@pytest.mark.parametrize("typed", READINGS, indirect=True)
def test_typed_properties_reach_mailjet_as_their_types_and_are_updated_once(
    typed: Api, tmp_path: Path
) -> None:
    api = typed
    for name, datatype in (("visits", "float"), ("level", "int")):  # defined in Mailjet before the sync
        assert api.post("contactmetadata", {"Name": name, "Datatype": datatype}).status_code == 201
    db = tmp_path / "w.duckdb"
    extract(db=str(db), resources=RESOURCES)
    with duckdb.connect(str(db), read_only=True) as con:
        people = [
            str(r[0]).lower()
            for r in con.sql(f"select email from mailjet.contacts order by id limit {PEOPLE}").fetchall()
        ]
    (tmp_path / "profiles.csv").write_text(
        "email,age,score,vip,joined_at,city,visits,level\n"
        + "".join(
            f"{e},{30 + i},{i}.5,{'true' if i % 2 else 'false'},2024-01-0{i + 1} 10:00:00,Town {i},42,"
            f"{'abc' if i == BAD else i}\n"
            for i, e in enumerate(people)
        ),
        encoding="utf-8",
    )
    load(db=str(db), file=str(tmp_path / "profiles.csv"), table="profiles")
    audiences = tmp_path / "audiences.sql"
    audiences.write_text(AUDIENCE, encoding="utf-8")
    plan(db=str(db), audiences=str(audiences), config=SyncConfiguration())
    [run] = apply(db=str(db), yes=True, audiences=str(audiences)).runs

    defined = {
        str(m["Name"]).lower(): (m["Name"], m["Datatype"]) for m in api.data("contactmetadata", Limit=1000)
    }  # type: ignore[call-overload]
    age = "age" if "lowercased" in api.app.config.quirks else "Age"
    assert {k: defined[k] for k in PROPERTIES} == {
        "age": (age, "int"),
        "score": ("score", "float"),
        "vip": ("vip", "bool"),
        "joined_at": ("joined_at", "datetime"),
        "city": ("city", "str"),
        "visits": ("visits", "float"),
        "level": ("level", "int"),
    }
    assert values_of(api, people[1]) == {
        "age": "31",
        "score": "1.5",
        "vip": "true",
        "joined_at": "2024-01-02T10:00:00Z",
        "city": "Town 1",
        "visits": "42.0",
        "level": "1",
    }
    # The one value a definition cannot take is that contact's rejection, with its reason; the rest apply.
    assert members(api, run.list_id) == set(people) - {people[BAD]}
    with duckdb.connect(str(db), read_only=True) as con:
        [(email, reason, detail)] = con.execute(
            "select email, reason, detail from mailjet_sync.sync_rejections "
            "where run_id = ? and stage = 'apply'",
            [run.run_id],
        ).fetchall()
    assert (str(email).lower(), reason) == (people[BAD], "property_value_invalid")
    assert "'level'" in str(detail) and "'abc'" in str(detail)

    # Mailjet says 42.0 where the audience says 42, one instant in its own spelling, true for true: no
    # update. A value changed in Mailjet since is one update, and once applied (under both quirks), none.
    [contact] = api.data(f"contact/{people[2]}")
    api.put(f"contactdata/{contact['ID']}", {"Data": [{"Name": "visits", "Value": 41}]})
    extract(db=str(db), resources=RESOURCES)
    [second] = plan(db=str(db), audiences=str(audiences), config=SyncConfiguration()).plans
    changes = {(str(e), str(a)): json.loads(str(p)) for e, a, p in planned(db, second.run_id)}
    assert set(changes) == {(people[BAD], "addnoforce"), (people[2], "update")}
    assert changes[(people[2], "update")] == {"visits": "42"}
    if "," not in api.app.config.quirks:
        return
    apply(db=str(db), yes=True, audiences=str(audiences))
    assert values_of(api, people[2])["visits"] == "42.0"
    extract(db=str(db), resources=RESOURCES)
    [third] = plan(db=str(db), audiences=str(audiences), config=SyncConfiguration()).plans
    assert third.actions == {"addnoforce": {"joined_audience": 1}}
