"""Modules a command has no use for, refused while it works: pyarrow imports pandas (about 50 MiB) on its
first conversion of a Python list whenever pandas can be imported, only to tell whether the list is a
pandas object; `extract` converts every page so, and never holds a pandas object."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# What `extract` needs none of (great_expectations and pandas are the plan's).
NOT_FOR_EXTRACT = ("pandas", "great_expectations")


class _Refusal:
    """An import finder that refuses `names` (and their submodules) to a process that has not imported
    them yet: importing one raises ModuleNotFoundError, as though it were not installed."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.split(".", maxsplit=1)[0] in self.names:
            raise ModuleNotFoundError(f"{name} is not imported by this command", name=name)


@contextmanager
def refused(names: tuple[str, ...] = NOT_FOR_EXTRACT) -> Iterator[None]:
    """Within the block, `names` cannot be imported, unless imported already (then nothing changes)."""
    missing = tuple(n for n in names if n not in sys.modules)
    if not missing:
        yield
        return
    refusal = _Refusal(missing)
    sys.meta_path.insert(0, refusal)
    try:
        yield
    finally:
        sys.meta_path.remove(refusal)
