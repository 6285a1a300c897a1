"""Contact property values formatted for their definitions' datatypes, and sent under the names Mailjet
lists for them, with plain data."""

from __future__ import annotations

import json
from typing import Any

import pytest

from destinations.mailjet_lists.properties import (
    Datatype,
    Definition,
    PropertyRejected,
    definitions_by_name,
    format_value,
    split_typed,
    typed_properties,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("value", "datatype", "sent"),
    [
        pytest.param("42", "int", 42, id="int"),
        pytest.param("42.0", "int", 42, id="int-without-point-zero"),
        pytest.param(" -7 ", "int", -7, id="int-trimmed-negative"),
        pytest.param("12345678901234567890", "int", 12345678901234567890, id="int-beyond-double"),
        pytest.param("3.5", "float", 3.5, id="float"),
        pytest.param("42", "float", 42.0, id="float-from-whole"),
        pytest.param("true", "bool", True, id="bool-true"),
        pytest.param("True", "bool", True, id="bool-capitalised"),
        pytest.param("0", "bool", False, id="bool-zero"),
        pytest.param("2024-01-01 10:00:00", "datetime", "2024-01-01T10:00:00Z", id="datetime-duckdb-text"),
        pytest.param("2024-01-01T12:00:00+02:00", "datetime", "2024-01-01T10:00:00Z", id="datetime-offset"),
        pytest.param("2024-01-01T10:00:00.75Z", "datetime", "2024-01-01T10:00:00Z", id="datetime-fraction"),
        pytest.param("2024-01-01", "datetime", "2024-01-01T00:00:00Z", id="datetime-date"),
        pytest.param("1704103200", "datetime", "2024-01-01T10:00:00Z", id="datetime-unix"),
        pytest.param(" Ann ", "str", " Ann ", id="text-as-is"),
        pytest.param("42.0", "str", "42.0", id="number-text-as-is"),
    ],
)
def test_a_value_is_formatted_for_its_datatype(value: str, datatype: Datatype, sent: Any) -> None:
    formatted = format_value(value, datatype)
    assert formatted == sent and type(formatted) is type(sent)


@pytest.mark.parametrize(
    ("value", "datatype"),
    [
        pytest.param("abc", "int", id="text-as-int"),
        pytest.param("42.5", "int", id="fraction-as-int"),
        pytest.param("nan", "float", id="nan-as-float"),
        pytest.param("maybe", "bool", id="word-as-bool"),
        pytest.param("next tuesday", "datetime", id="words-as-datetime"),
        pytest.param(True, "int", id="boolean-as-int"),
    ],
)
def test_a_value_its_datatype_cannot_take_is_refused(value: Any, datatype: Datatype) -> None:
    with pytest.raises(ValueError):
        format_value(value, datatype)


def test_names_are_matched_whatever_their_case_and_sent_as_mailjet_lists_them() -> None:
    defined = definitions_by_name(
        [{"Name": "firstname", "Datatype": "str"}, {"Name": "Age", "Datatype": "int"}]
    )
    assert typed_properties({"FirstName": "Ann", "age": "41", "zip": "75001"}, defined) == {
        "firstname": "Ann",
        "Age": 41,
        "zip": "75001",  # no definition: as given
    }


def test_a_rejection_names_the_property_the_value_and_the_fix() -> None:
    with pytest.raises(PropertyRejected) as caught:
        typed_properties({"Level": "abc"}, {"level": Definition("level", "int")})
    assert str(caught.value) == (
        "property 'level': 'abc' is not a whole number (Mailjet defines 'level' as int); fix the value in "
        "the audience, or the property's type in Mailjet"
    )


def test_one_bad_value_rejects_that_contact_and_the_rest_are_sent_typed() -> None:
    defined = {"level": Definition("level", "int"), "vip": Definition("VIP", "bool")}
    rows = [
        {"email": "ann@x.com", "properties": json.dumps({"level": "7", "vip": "true"})},
        {"email": "bob@x.com", "properties": json.dumps({"level": "abc", "vip": "false"})},
        {"email": "cat@x.com", "properties": None},
    ]
    sending, rejected = split_typed(rows, defined)
    assert [(r["email"], r["properties"]) for r in sending] == [
        ("ann@x.com", json.dumps({"level": 7, "VIP": True})),
        ("cat@x.com", None),
    ]
    assert [(r["email"], "'abc'" in why) for r, why in rejected] == [("bob@x.com", True)]
