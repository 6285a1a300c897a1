"""Contact properties as Mailjet defines them: each value formatted for its definition's datatype (RFC 3339
in UTC for `datetime`, `true`/`false` for `bool`, integers without `.0`, floats as plain decimals, text as
is) and sent under the name `contactmetadata` lists for it, matched case-insensitively (Mailjet may
lower-case a name when it creates it). A value a definition's type cannot take is that contact's
rejection, with the reason. Pure: no I/O."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, get_args

Datatype = Literal["str", "int", "float", "bool", "datetime"]
DATATYPES: tuple[Datatype, ...] = get_args(Datatype)
TRUE = frozenset({"true", "t", "1", "yes", "y"})
FALSE = frozenset({"false", "f", "0", "no", "n"})
UNIX_SECONDS = re.compile(r"^[0-9]+(\.[0-9]+)?$")
RFC3339 = "%Y-%m-%dT%H:%M:%SZ"
KINDS: dict[Datatype, str] = {
    "str": "text",
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "datetime": "a date and time (RFC 3339 or Unix seconds)",
}


@dataclass(frozen=True)
class Definition:
    """A contact property as `contactmetadata` lists it."""

    name: str
    datatype: Datatype


class PropertyRejected(ValueError):
    """A contact's property value its definition's type cannot take; the message names the property, the
    value and the fix."""


def definitions_by_name(rows: Iterable[Mapping[str, Any]]) -> dict[str, Definition]:
    """`contactmetadata` rows keyed by their lowercase name (an unknown datatype reads as `str`)."""
    found: dict[str, Definition] = {}
    for row in rows:
        name = str(row.get("Name") or "")
        datatype = str(row.get("Datatype") or "str")
        if name:
            found[name.lower()] = Definition(name, datatype if datatype in DATATYPES else "str")
    return found


def format_value(value: Any, datatype: Datatype) -> Any:
    """`value` (the plan's text, or a JSON value) as Mailjet's `datatype` takes it; ValueError when it
    cannot."""
    if datatype == "str":
        return value if isinstance(value, str) else json.dumps(value)
    if isinstance(value, bool):
        if datatype == "bool":
            return value
        raise ValueError(KINDS[datatype])
    text = str(value).strip()
    if datatype == "bool":
        if text.lower() in TRUE | FALSE:
            return text.lower() in TRUE
        raise ValueError(KINDS[datatype])
    if datatype == "datetime":
        return format_instant(text)
    try:
        number = float(text)
    except ValueError:
        raise ValueError(KINDS[datatype]) from None
    if not math.isfinite(number):
        raise ValueError(KINDS[datatype])
    if datatype == "float":
        return number
    if not number.is_integer():
        raise ValueError(KINDS[datatype])
    return int(text) if text.lstrip("+-").isdigit() else int(number)


def format_instant(text: str) -> str:
    """A date and time (RFC 3339 or ISO 8601, naive read as UTC, a date alone as its midnight, or Unix
    seconds) in RFC 3339, UTC, to the second; ValueError when it is none of these."""
    try:
        if UNIX_SECONDS.match(text):
            instant = datetime.fromtimestamp(float(text), UTC)
        else:
            instant = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise ValueError(KINDS["datetime"]) from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC).strftime(RFC3339)


def typed_properties(values: Mapping[str, Any], definitions: Mapping[str, Definition]) -> dict[str, Any]:
    """A contact's property values under their definitions' names, formatted for their datatypes (a name
    without a definition is sent as given, its value as is); PropertyRejected naming the first value a
    definition cannot take."""
    typed: dict[str, Any] = {}
    for name, value in values.items():
        known = definitions.get(name.lower())
        if known is None:
            typed[name] = value
            continue
        try:
            typed[known.name] = format_value(value, known.datatype)
        except ValueError as exc:
            raise PropertyRejected(
                f"property {known.name!r}: {value!r} is not {exc} (Mailjet defines {known.name!r} as "
                f"{known.datatype}); fix the value in the audience, or the property's type in Mailjet"
            ) from None
    return typed


def split_typed(
    rows: Sequence[Mapping[str, Any]], definitions: Mapping[str, Definition]
) -> tuple[list[Mapping[str, Any]], list[tuple[Mapping[str, Any], str]]]:
    """(rows to send, their `properties` typed for the definitions; rows rejected, with the reason)."""
    sending: list[Mapping[str, Any]] = []
    rejected: list[tuple[Mapping[str, Any], str]] = []
    for row in rows:
        if not row.get("properties"):
            sending.append(row)
            continue
        try:
            typed = typed_properties(json.loads(row["properties"]), definitions)
        except PropertyRejected as exc:
            rejected.append((row, str(exc)))
            continue
        sending.append({**row, "properties": json.dumps(typed)})
    return sending, rejected
