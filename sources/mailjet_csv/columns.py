"""The role of each column of a file: the email, the contact's name, its subscription status, or a
contact property (named after the header)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sources.mailjet_csv import settings
from sources.mailjet_csv.dialect import find_email_column, normalize_header

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Columns:
    """Column indexes by role. A status column is (index, inverted): inverted for `unsubscribed`-style
    columns, where a true value means unsubscribed."""

    count: int
    email: int
    name: int | None
    statuses: tuple[tuple[int, bool], ...]
    properties: tuple[tuple[int, str], ...]  # (column index, property name)


def property_name(header: str, index: int) -> str:
    """A header as a property name: trimmed, lowercased, inner spaces as underscores."""
    return _SPACES.sub("_", header.strip().lower()) or f"column_{index + 1}"


def assign(header: tuple[str, ...]) -> Columns:
    """Decide each column's role from the header alone."""
    email = find_email_column(header)
    assert email is not None, "sniff() guarantees an email column"
    name = None
    statuses: list[tuple[int, bool]] = []
    properties: list[tuple[int, str]] = []
    seen: set[str] = set()
    for i, raw in enumerate(header):
        key = normalize_header(raw)
        if i == email:
            continue
        if name is None and key in settings.NAME_HEADERS:
            name = i
            continue
        if key in settings.STATUS_HEADERS | settings.UNSUBSCRIBED_HEADERS:
            statuses.append((i, key in settings.UNSUBSCRIBED_HEADERS))
            continue
        prop = property_name(raw, i)
        unique, n = prop, 2
        while unique in seen:
            unique, n = f"{prop}_{n}", n + 1
        seen.add(unique)
        properties.append((i, unique))
    return Columns(len(header), email, name, tuple(statuses), tuple(properties))
