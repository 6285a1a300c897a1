"""The warehouse's errors: each names the database and the fix."""

from __future__ import annotations

from pipelines.errors import EXIT_FAILURE, EXIT_USAGE, CommandError


class WarehouseError(CommandError):
    """A database or destination choice that cannot work (exit 2); the message names the fix."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_USAGE)


class WarehouseBusy(CommandError):
    """Another process holds the database (a writer, or a DuckDB reader); a runtime failure, exit 1."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_FAILURE)


class ResumeFailed(CommandError):
    """What an interrupted run left behind could not be completed (exit 1); the message says what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_FAILURE)


def lock_holder(exc: BaseException) -> str | None:
    """The process DuckDB names as holding the file, when that is why `exc` (or its cause) happened."""
    seen: BaseException | None = exc
    while seen is not None:
        text = str(seen)
        if "Conflicting lock is held in" in text:
            return text.split("Conflicting lock is held in", 1)[1].strip().splitlines()[0].rstrip(".")
        seen = seen.__cause__ or seen.__context__
    return None


def raise_if_busy(exc: BaseException, command: str) -> None:
    """Raise WarehouseBusy when `exc` came from another process opening the DuckDB file mid-run."""
    holder = lock_holder(exc)
    if holder is not None:
        raise WarehouseBusy(
            f"the database was opened by another process ({holder}) while {command} was writing to it. "
            f"Nothing is lost: close that connection and rerun {command} to finish"
        ) from None
