"""Which Mailjet list each audience feeds: its `-- list:` header resolved against the lists the warehouse
knows (Mailjet's live lists first, then lists known only from imported files), the permission each
list needs, and the lists that share one. The rules are plain functions of the lists' rows;
`resolve_lists` reads them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlt.destinations.sql_client import SqlClientBase

from pipelines.models import render
from pipelines.sync.audiences import Audience, AudienceError, one_list_one_audience

KnownList = tuple[int, str]  # (id, name)


@dataclass(frozen=True)
class ListTarget:
    """The list an audience feeds: Mailjet's (`list_id`, None while Mailjet does not have it), and the
    list whose memberships count (Mailjet's, else one known only from imported files, whose
    unsubscribes still keep people off it)."""

    list_id: int | None
    name: str | None
    member_list_id: int | None


def find(ref: str, known: Sequence[KnownList]) -> KnownList | None:
    """The list `ref` names among `known`: by ID, else by exact name, else by name case-insensitively."""
    match = [k for k in known if ref.isdigit() and k[0] == int(ref)] or [k for k in known if k[1] == ref]
    match = match or [k for k in known if k[1].lower() == ref.lower()]
    return match[0] if match else None


def resolve(
    audiences: Sequence[Audience], rows: Iterable[Sequence[Any]], source: Path
) -> dict[str, ListTarget]:
    """Each audience's `-- list:` (by its `list_ref`) resolved among `rows` (id, name, `_source` of the
    `mailjet.contact_lists` not deleted, by id): among Mailjet's live lists first, then among lists known
    only from imported files (never by ID: a file's list ID is no Mailjet ID). AudienceError when two
    audiences name one list in two ways."""
    known = list(rows)
    api = [(int(i), str(n)) for i, n, origin in known if origin == "api"]
    files = [(int(i), str(n)) for i, n, origin in known if origin != "api"]
    resolved: dict[str, ListTarget] = {}
    owner: dict[int, Audience] = {}
    for item in audiences:
        found = find(item.list_ref, api)
        if found is not None:
            target = ListTarget(found[0], found[1], found[0])
        else:
            from_files = None if item.list_ref.isdigit() else find(item.list_ref, files)
            target = ListTarget(None, None, from_files[0] if from_files else None)
        resolved[item.list_ref] = target
        if target.member_list_id is not None:
            other = owner.setdefault(target.member_list_id, item)
            if other is not item:
                raise AudienceError(one_list_one_audience(str(source), item, other))
    return resolved


def resolve_lists(
    client: SqlClientBase[Any], audiences: Sequence[Audience], source: Path, dialect: str
) -> dict[str, ListTarget]:
    """`resolve` over the lists of the warehouse."""
    return resolve(audiences, client.execute_sql(render("known_lists", dialect)) or [], source)


def list_permissions(audiences: Sequence[Audience], lists: dict[str, ListTarget]) -> dict[int, str]:
    """List ID (whose memberships count) -> the permission its audience declares."""
    permissions: dict[int, str] = {}
    for a in audiences:
        member_list_id = lists[a.list_ref].member_list_id
        if a.permission is not None and member_list_id is not None:
            permissions[member_list_id] = a.permission
    return permissions


def shared_permissions(
    audiences: Sequence[Audience], lists: dict[str, ListTarget]
) -> dict[str, tuple[str, ...]]:
    """Permission -> the lists whose audiences declare it (by name: Mailjet's, else as the header names the
    list), for each permission two or more lists share: the ledger reads all of them for it, so an
    unsubscription from one withdraws consent for every one."""
    named: dict[str, set[str]] = {}
    for a in audiences:
        if a.permission is not None:
            named.setdefault(a.permission, set()).add(lists[a.list_ref].name or a.list_ref)
    return {
        p: tuple(sorted(names, key=lambda n: (n.lower(), n))) for p, names in named.items() if len(names) > 1
    }
