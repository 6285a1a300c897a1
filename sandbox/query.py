"""Listing mechanics shared by every v3 resource: Limit/Offset/Sort/countOnly, filter values, and a
result cache so that deep pages cost the same as the first."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, Any

from sandbox import settings
from sandbox.exceptions import BadRequest
from sandbox.http_types import Reply, Request, envelope
from sandbox.models import projector
from sandbox.quirks import UNDOCUMENTED_SORTS

if TYPE_CHECKING:
    from sandbox.store import Store

PAGING_PARAMS = frozenset({"limit", "offset", "sort", "countonly", "style"})


def int_param(req: Request, name: str, default: int | None = None) -> int | None:
    """An integer filter, or 400 naming it."""
    raw = req.params.get(name.lower())
    if raw is None or raw == "":
        return default
    text = raw.strip()
    if not text.lstrip("-").isdigit() or len(text) > 20:
        raise BadRequest(f'Invalid value for filter "{name}": "{raw}"')
    return int(text)


def bool_param(req: Request, name: str) -> bool | None:
    """A boolean filter (`true`/`false`/`1`/`0`), or 400 naming it."""
    raw = req.params.get(name.lower())
    if raw is None or raw == "":
        return None
    text = raw.strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise BadRequest(f'Invalid value for filter "{name}": "{raw}"')


def str_param(req: Request, name: str) -> str | None:
    """A string filter."""
    raw = req.params.get(name.lower())
    return None if raw is None or raw == "" else raw


def paging(req: Request) -> tuple[int, int, bool]:
    """(limit, offset, count_only): Limit defaults to 10, 0 means the 1000 maximum, larger is capped."""
    limit = int_param(req, "Limit", settings.PAGE_DEFAULT)
    offset = int_param(req, "Offset", 0)
    assert limit is not None and offset is not None
    if limit < 0:
        raise BadRequest(f'Invalid value for filter "Limit": "{limit}" (must be 0..{settings.PAGE_MAX})')
    if offset < 0:
        raise BadRequest(f'Invalid value for filter "Offset": "{offset}" (must be >= 0)')
    if limit == 0 or limit > settings.PAGE_MAX:
        limit = settings.PAGE_MAX
    count_only = (req.params.get("countonly") or "").strip().lower() in ("1", "true")
    return limit, offset, count_only


def sort_spec(req: Request, fields: tuple[str, ...]) -> tuple[str, bool]:
    """(field, descending) from `Sort=Field` / `Sort=Field DESC`; ("", False) = stored (ID) order."""
    raw = req.params.get("sort")
    if not raw or not raw.strip():
        return "", False
    words = raw.replace("+", " ").split()
    by_lower = {f.lower(): f for f in fields}
    name = by_lower.get(words[0].lower())
    if name is None or len(words) > 2:
        raise BadRequest(f'Invalid sort parameter: "{raw}"')
    desc = len(words) == 2 and words[1].lower() == "desc"
    if len(words) == 2 and words[1].lower() not in ("asc", "desc"):
        raise BadRequest(f'Invalid sort parameter: "{raw}"')
    return name, desc


def listing(
    store: Store,
    req: Request,
    resource: str,
    fields: tuple[str, ...],
    build: Callable[[], Iterable[Any]],
    depends: tuple[Any, ...],
    project: Callable[[Any], dict[str, Any]] | None = None,
    key_extra: Hashable = None,
) -> Reply:
    """A paged envelope of rows. `build` yields the filtered rows in ID order; the filtered and sorted
    list is cached under the request's filters and the versions of the tables it `depends` on."""
    limit, offset, count_only = paging(req)
    sort_field, desc = sort_spec(req, fields)
    if sort_field in UNDOCUMENTED_SORTS.get(resource, ()):  # quirks: refused, or ignored (newest first)
        if "sort-unknown-400" in store.quirks:
            raise BadRequest(f'Invalid sort parameter: "{req.params.get("sort")}"')
        if "sort-unknown-ignored" in store.quirks:
            sort_field, desc = "", True
    filters = tuple(sorted((k, v) for k, v in req.params.items() if k not in PAGING_PARAMS))
    versions = tuple(t.version for t in depends)
    key = (resource, filters, sort_field, desc, versions, key_extra, tuple(sorted(store.quirks)))

    def build_sorted() -> list[Any]:
        rows = build()
        rows = rows if isinstance(rows, list) else list(rows)
        if sort_field and (sort_field != "ID" or desc):
            # Computed resources (statcounters) build dicts; stored ones are dataclass rows.
            getter = itemgetter if rows and isinstance(rows[0], dict) else attrgetter
            rows = sorted(rows, key=getter(sort_field), reverse=desc)
        elif desc:
            rows = rows[::-1]  # the API's own order, newest first (quirk sort-unknown-ignored)
        return rows

    rows = store.cache.get_or_build(key, build_sorted)
    ignored = resource == "statcounters" and "statcounters-no-countonly" in store.quirks  # a quirk
    if count_only and not ignored:
        return envelope([], total=len(rows))
    proj = project or projector(fields)
    page = [proj(row) for row in rows[offset : offset + limit]]
    if store.quirks:
        page = quirked_page(store, resource, rows[offset : offset + limit], page)
    return envelope(page)


def quirked_page(
    store: Store, resource: str, rows: list[Any], page: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """A page as the quirks that are on would give it (`rows`: the stored rows the page was made from)."""
    quirks = store.quirks
    if resource == "campaign" and "campaign-status-string" in quirks:
        return [{**r, "Status": str(r["Status"])} for r in page]
    if resource == "clickstatistics" and "click-id-minus-one" in quirks:
        return [{**r, "ID": -1} for r in page]
    if resource == "bouncestatistics" and "bounce-id-is-message-id" in quirks:
        return [{**r, "ID": row.MessageID} for r, row in zip(page, rows, strict=True)]
    if resource == "campaigndraft" and "draft-axtesting-object" in quirks:
        return [{**r, "AXTesting": {"ID": r["AXTesting"]}} for r in page]
    return page


def window(
    store: Store, req: Request, default_today: bool = True, names: tuple[str, str] = ("FromTS", "ToTS")
) -> tuple[str, str]:
    """The [FromTS, ToTS] window as Mailjet-formatted strings (both inclusive). Without FromTS the
    window starts today at 00:00 UTC (FromTS=0 too); FromTS=1 means all history."""
    from sandbox.clock import format_ts

    start_raw = str_param(req, names[0])
    end_raw = str_param(req, names[1])
    start_s = store.validate_date(start_raw, names[0]) if start_raw is not None else None
    end_s = store.validate_date(end_raw, names[1]) if end_raw is not None else None
    # Quirk `fromts-exclusive`: the edges given exclude their own second ("after FromTS", "before ToTS").
    edge = 1 if "fromts-exclusive" in store.quirks else 0
    if start_s is None or start_s == 0:
        start = format_ts(store.clock.start_of_today()) if default_today else ""
    else:
        start = format_ts(max(start_s, 0) + edge)
    end = format_ts(max(end_s, 0) - edge) if end_s is not None else "9999"
    return start, end
