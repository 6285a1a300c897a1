"""A real PostgreSQL 16 for the tests, from the `pgserver` wheel: one server per test process, started by
the first test that asks for it and stopped (its data deleted) when the process ends; a fresh database per
test, named to dlt as `DESTINATION__POSTGRES__CREDENTIALS`.

Each xdist worker starts its own server rather than sharing one: a server costs about a second of CPU to
initialize and start, and a server of its own needs no lock nor any agreement on who stops it. It listens
on a Unix socket only (no TCP port at all), in a folder of its own under the system's temporary folder.
PostgreSQL refuses to run as root: run as root (as CI does), pgserver creates a system user `pgserver` and
runs the server as that user, in a data folder it hands over to it; run as anyone else, as that user."""

from __future__ import annotations

import itertools
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg2
import pytest

USER = "postgres"
PASSWORD = "postgres"  # the server trusts local connections; dlt wants a password all the same
_databases = itertools.count(1)


@dataclass(frozen=True)
class Server:
    """A running PostgreSQL server: where its socket is."""

    socket_dir: str
    port: int

    def url(self, database: str) -> str:
        """The connection URL of `database`, the socket's folder as its host (percent-encoded)."""
        return f"postgresql://{USER}:{PASSWORD}@{quote(self.socket_dir, safe='')}:{self.port}/{database}"

    def execute(self, database: str, sql: str) -> list[tuple[Any, ...]]:
        """Run one statement in `database` (autocommit); its rows, if it returns any."""
        connection = psycopg2.connect(self.url(database))
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(sql)
                return list(cursor.fetchall()) if cursor.description else []
        finally:
            connection.close()


@dataclass(frozen=True)
class Database:
    """A fresh database of the test's own on the server; dlt is pointed at it."""

    server: Server
    name: str

    @property
    def url(self) -> str:
        return self.server.url(self.name)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self.server.execute(self.name, sql)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Server]:
    """This test process's PostgreSQL server, stopped and deleted when the session ends."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns, at import, when XDG_RUNTIME_DIR is unset
        import pgserver

    data = Path(tempfile.mkdtemp(prefix="mailjet-elt-pg-")) / "data"
    server = pgserver.get_server(data, cleanup_mode="delete")
    info = server.get_postmaster_info()
    assert info.socket_dir is not None and info.port is not None
    try:
        yield Server(str(info.socket_dir), int(info.port))
    finally:
        server.cleanup()
        data.parent.rmdir()


@pytest.fixture
def postgres(postgres_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    """A fresh database for this test, set as `DESTINATION__POSTGRES__CREDENTIALS`; the project's working
    folders (`DLT_LOCAL_DIR`) and dlt's global one (`DLT_DATA_DIR`) are the test's own, so no test resumes
    another's pipelines and none writes into the repository."""
    database = new_database(postgres_server)
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", database.url)
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt"))
    monkeypatch.setenv("DLT_LOCAL_DIR", str(tmp_path / "project"))
    return database


def new_database(server: Server) -> Database:
    """A fresh database on `server`, for a fixture that sets the environment itself."""
    name = f"test_{next(_databases)}"
    server.execute("postgres", f"create database {name}")
    return Database(server, name)
