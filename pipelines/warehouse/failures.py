"""What a command says when a destination other than DuckDB cannot be used: its credentials are missing,
its server cannot be reached, or it refuses the login. The setting to fix, or the host and port; never a
driver's traceback, never a secret (a driver's message names the host, the port and the user, not the
password). Told apart by the drivers' words, as dlt passes their errors on."""

from __future__ import annotations

import re

from pipelines.errors import EXIT_FAILURE, EXIT_USAGE, CommandError

# What a driver says when nothing answers at the address (PostgreSQL's libpq words; others say the same).
UNREACHABLE = (
    "connection refused",
    "could not connect",
    "could not translate host name",
    "timeout expired",
    "timed out",
    "no such file or directory",
    "network is unreachable",
    "no route to host",
)
# ... and when the server answers but refuses the user or the password.
LOGIN_REFUSED = (
    "password authentication failed",
    "authentication failed",
    "no password supplied",
    "password is required",
)
_AT = re.compile(r'(?:at|server) "([^"]+)", port (\d+)')
_SOCKET = re.compile(r'socket "([^"]+)"')
_HOST = re.compile(r'host name "([^"]+)"')
_NESTED = re.compile(r"with missing field\(s\): ([^\n]+)")


def destination_failure(exc: BaseException, destination: str | None) -> CommandError | None:
    """The CommandError for `exc` when it is one of these failures of the destination, else None."""
    name = destination or "duckdb"
    if type(exc).__name__ == "ConfigFieldMissingException" and _about_destination(exc):
        nested = _NESTED.findall(str(exc))  # a field of the credentials: the password left out, say
        fields = nested[-1] if nested else ", ".join(str(f) for f in getattr(exc, "fields", []))
        return CommandError(
            f"--destination {name}: its connection settings lack {fields or 'credentials'}. Set "
            f"DESTINATION__{name.upper()}__CREDENTIALS in the environment (for Postgres: "
            "postgresql://USER:PASSWORD@HOST:5432/DATABASE), or put `credentials` under "
            f"[destination.{name}] in .dlt/secrets.toml",
            EXIT_USAGE,
        )
    text = _driver_text(exc) if name != "duckdb" else None  # a DuckDB file has its own messages
    if text is None:
        return None
    said = text.lower()
    first = " ".join(line.strip() for line in text.strip().splitlines()[:2])
    if any(words in said for words in LOGIN_REFUSED):
        return CommandError(
            f"--destination {name}: the server at {_where(text)} refused the login ({first}). Check the user "
            f"and password in DESTINATION__{name.upper()}__CREDENTIALS (or [destination.{name}] credentials "
            "in .dlt/secrets.toml)",
            EXIT_USAGE,
        )
    if any(words in said for words in UNREACHABLE):
        return CommandError(
            f"--destination {name}: cannot reach the database server at {_where(text)} ({first}). Is it "
            f"running, and are the host and port in DESTINATION__{name.upper()}__CREDENTIALS right? Nothing "
            "was written; run the command again once it answers",
            EXIT_FAILURE,
        )
    return None


def _about_destination(exc: BaseException) -> bool:
    """Whether a missing-setting error is about a destination's configuration or credentials."""
    spec = type(getattr(exc, "config", None))
    return spec.__module__.startswith("dlt.destinations") or spec.__name__.endswith(
        ("ClientConfiguration", "Credentials")
    )


def _driver_text(exc: BaseException) -> str | None:
    """The message of the driver's connection error, in `exc` or in what it was raised from."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return None
        if type(seen).__name__ in ("OperationalError", "DestinationConnectionError", "InterfaceError"):
            return str(seen)
        seen = seen.__cause__ or seen.__context__
    return None


def _where(text: str) -> str:
    """The host and port (or socket) the driver's message names; "the configured address" otherwise."""
    if at := _AT.search(text):
        return f"{at.group(1)}:{at.group(2)}"
    if socket := _SOCKET.search(text):
        return f"the socket {socket.group(1)}"
    if host := _HOST.search(text):
        return host.group(1)
    return "the configured address"
