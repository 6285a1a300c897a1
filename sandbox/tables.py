"""An in-memory table keyed by integer ID, in insertion (= ID) order, with cached ordered views."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Any, Generic, TypeVar

R = TypeVar("R")


class Table(Generic[R]):
    """Rows by key; `ordered()` is a cached list in key order, rebuilt only after a change."""

    def __init__(self) -> None:
        self.rows: dict[int, R] = {}
        self.version = 0
        self._ordered: list[R] | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[R]:
        return iter(self.rows.values())

    def get(self, key: int) -> R | None:
        """The row with this key, or None."""
        return self.rows.get(key)

    def add(self, key: int, row: R) -> R:
        """Insert a row; keys must grow so that insertion order stays key order."""
        self.rows[key] = row
        self.touch()
        return row

    def remove(self, key: int) -> R | None:
        """Delete a row by key."""
        row = self.rows.pop(key, None)
        if row is not None:
            self.touch()
        return row

    def touch(self) -> None:
        """Mark the table changed: invalidates cached views and query results."""
        self.version += 1
        self._ordered = None

    def ordered(self) -> list[R]:
        """All rows in key order (shared list: callers must not mutate it)."""
        if self._ordered is None:
            self._ordered = list(self.rows.values())
        return self._ordered


class ResultCache:
    """A small LRU of filtered and sorted row lists, so that walking pages costs O(page), not O(offset)."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, list[Any]] = OrderedDict()

    def get_or_build(self, key: Hashable, build: Callable[[], list[Any]]) -> list[Any]:
        """The cached list for key, built on a miss."""
        hit = self._items.get(key)
        if hit is not None:
            self._items.move_to_end(key)
            return hit
        rows = build()
        self._items[key] = rows
        if len(self._items) > self.size:
            self._items.popitem(last=False)
        return rows

    def clear(self) -> None:
        """Drop every cached result."""
        self._items.clear()
