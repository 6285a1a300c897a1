"""Which list each audience feeds, and the permission each list needs: plain data, no database."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.errors import CommandError
from pipelines.sync.audiences import Audience, AudienceError, choose, missing_properties
from pipelines.sync.lists import ListTarget, find, list_permissions, resolve, shared_permissions

pytestmark = pytest.mark.unit

SOURCE = Path("audiences.sql")
ROWS = [
    (1, "Newsletter", "api"),
    (2, "Promos", "api"),
    (-7, "Imported", "csv:x.csv"),
    (-8, "promos", "csv:y.csv"),
]


def audience(name: str, list_ref: str, permission: str | None = None) -> Audience:
    return Audience(name, list_ref, "remove", (), f"create view audience_{name} as select 1", 1, permission)


@pytest.mark.parametrize(
    ("ref", "found"),
    [
        pytest.param("2", (2, "Promos"), id="by-id"),
        pytest.param("Promos", (2, "Promos"), id="by-exact-name"),
        pytest.param("NEWSLETTER", (1, "Newsletter"), id="by-name-any-case"),
        pytest.param("3", None, id="unknown-id"),
        pytest.param("Other", None, id="unknown-name"),
    ],
)
def test_a_list_is_found_by_id_then_exact_name_then_any_case(ref: str, found: tuple[int, str] | None) -> None:
    assert find(ref, [(1, "Newsletter"), (2, "Promos")]) == found


def test_the_exact_name_wins_over_another_case() -> None:
    assert find("promos", [(2, "Promos"), (5, "promos")]) == (5, "promos")


def test_mailjet_lists_come_first_then_lists_known_from_files() -> None:
    targets = resolve(
        [audience("news", "newsletter"), audience("imp", "Imported"), audience("new", "Brand new")],
        ROWS,
        SOURCE,
    )
    assert targets == {
        "newsletter": ListTarget(1, "Newsletter", 1),
        "Imported": ListTarget(None, None, -7),
        "Brand new": ListTarget(None, None, None),
    }


def test_a_file_list_is_never_found_by_id() -> None:
    assert resolve([audience("a", "-7")], ROWS, SOURCE) == {"-7": ListTarget(None, None, None)}


def test_two_audiences_naming_one_list_two_ways_are_refused() -> None:
    with pytest.raises(AudienceError, match="audiences 'a' and 'b' both feed list"):
        resolve([audience("a", "1"), audience("b", "Newsletter")], ROWS, SOURCE)


def test_each_list_needs_the_permission_its_audience_declares() -> None:
    audiences = [
        audience("a", "1", "email_newsletter"),
        audience("b", "Imported", "email_service"),
        audience("c", "2"),
    ]
    lists = resolve([*audiences, audience("d", "Brand new", "email_other")], ROWS, SOURCE)
    assert list_permissions([*audiences, audience("d", "Brand new", "email_other")], lists) == {
        1: "email_newsletter",
        -7: "email_service",
    }


def test_a_permission_two_lists_need_is_shared_by_both_named() -> None:
    audiences = [
        audience("a", "1", "email_newsletter"),
        audience("b", "Imported", "email_newsletter"),
        audience("c", "Brand new", "email_newsletter"),
        audience("d", "2", "email_service"),
        audience("e", "Other"),
    ]
    lists = resolve(audiences, ROWS, SOURCE)
    # By Mailjet's name, else as the header names the list; a permission of one list is shared by none.
    assert shared_permissions(audiences, lists) == {
        "email_newsletter": ("Brand new", "Imported", "Newsletter")
    }


def test_choose_names_the_audiences_a_file_defines() -> None:
    audiences = [audience("a", "1"), audience("b", "2")]
    assert choose(audiences, None, SOURCE) == audiences
    assert choose(audiences, "b", SOURCE) == [audiences[1]]
    with pytest.raises(
        CommandError, match=r"--audience 'c': audiences.sql defines no such audience; it defines a, b"
    ):
        choose(audiences, "c", SOURCE)


def test_missing_properties_name_the_fix() -> None:
    assert missing_properties("f:1: audience 'a'", ["country"], ["email", "firstname"]) == (
        "f:1: audience 'a': declared property country not among the view's columns (email, firstname); add "
        "the column or drop it from `-- properties:`"
    )
