"""Time windows for incremental listings: history cut into windows small enough that every window's
pages can be read in parallel with shallow offsets, and where a first run's history starts."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sources.mailjet.paging import PageReader
from sources.mailjet.schema import Table

log = logging.getLogger(__name__)

Window = tuple[int, int, int]  # FromTS, ToTS (Unix seconds, both inclusive), rows in it


def split_windows(
    count: Callable[[list[tuple[int, int]]], list[int]], start: int, end: int, max_rows: int
) -> list[Window]:
    """[start, end] cut into time windows of at most `max_rows` rows each, by halving any window that
    holds more (`count` gives the rows of several windows at once). Empty windows are dropped; a single
    second holding more than `max_rows` rows stays one window."""
    done: list[Window] = []
    pending = [(start, end)]
    while pending:
        halves: list[tuple[int, int]] = []
        for (lo, hi), rows in zip(pending, count(pending), strict=True):
            if rows == 0:
                continue
            if rows <= max_rows or lo == hi:
                done.append((lo, hi, rows))
            else:
                mid = (lo + hi) // 2
                halves += [(lo, mid), (mid + 1, hi)]
        pending = halves
    return sorted(done)


def start_of_history(
    reader: PageReader,
    path: str,
    params: Mapping[str, Any],
    table: Table,
    end: int,
) -> int | None:
    """Unix second a first run reads from: the oldest row's (one call, sorted by `params`' Sort), or
    None when there is no row at all. Without a Sort (the v4 SMS API) history starts at 1. `FromTS=1`
    asks for all history; absent or 0 means today only."""
    if "Sort" not in params:
        return 1
    oldest = reader.first(path, {**params, "FromTS": 1, "ToTS": end})
    if oldest is None:
        return None
    if path in reader.unsorted:  # the first row is not the oldest: read all history
        return 1
    column = next(c for c in table.columns if c.name == table.cursor)
    stamp = str(column.read(oldest))
    start = max(1, int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()))
    # The sort fields of the event logs are not named in the reference: should Mailjet ignore one, this
    # row is not the oldest. One count of what lies before it tells (then all history is read).
    if start > 2 and reader.count(path, {**params, "FromTS": 1, "ToTS": start - 2}):
        log.warning(
            "%s: Sort=%s did not give the oldest row first; reading all history", path, params["Sort"]
        )
        return 1
    return start
