"""Destinations where the commands' SQL cannot run: dlt's filesystem destination (files, no SQL) is refused
by every command that keeps the layers in SQL, at once (exit 2, before any request to Mailjet or any
load), naming what works; a refused command leaves nothing that blocks the next one. SQLite (through
SQLAlchemy) is refused from dlt's capabilities: a view there cannot read another dataset's tables."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dlt.common.destination.capabilities import DestinationCapabilitiesContext

from pipelines.cli import run_command
from pipelines.errors import EXIT_USAGE
from pipelines.warehouse.engines import refusal
from tests.conftest import Api, creds, start

WHAT_WORKS = ("DuckDB", "PostgreSQL (--destination postgres)", "`mailjet_source()` in your own dlt pipeline")


@pytest.fixture(scope="module")
def small() -> Iterator[Api]:
    """One small sandbox for the module: the refusals send nothing to it."""
    app = start(contacts=40)
    yield Api(app)
    app.stop()


def requests(api: Api) -> int:
    return int(api.admin("GET", "requests").json()["total"])


@pytest.fixture
def lake(small: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Mailjet's settings and a filesystem destination whose bucket is a local folder; dlt's own folders in
    the test's folder."""
    for name, value in creds(small).items():
        monkeypatch.setenv(name, value)
    bucket = tmp_path / "lake"
    monkeypatch.setenv("DESTINATION__FILESYSTEM__BUCKET_URL", str(bucket))
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt"))
    monkeypatch.chdir(tmp_path)
    return bucket


COMMANDS = [
    pytest.param(["extract"], id="extract"),
    pytest.param(["extract", "--full-refresh"], id="extract-full-refresh"),
    pytest.param(["plan"], id="plan"),
    pytest.param(["apply", "--yes"], id="apply"),
    pytest.param(["run", "--yes"], id="run"),
    pytest.param(["sql", "select 1"], id="sql"),
    pytest.param(["load", "crm.csv", "--table", "profiles"], id="load"),
    pytest.param(["demo", "--contacts", "20"], id="demo"),
]


@pytest.mark.parametrize("command", COMMANDS)
def test_the_filesystem_destination_is_refused_at_once_naming_what_works(
    command: list[str], lake: Path, small: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("crm.csv").write_text("email,firstname\nann@example.com,Ann\n", encoding="utf-8")
    before = requests(small)
    for _ in range(2):  # and again: nothing left behind blocks the next command
        code = run_command(["--destination", "filesystem", *command])
        err = capsys.readouterr().err
        assert code == EXIT_USAGE, err
        assert "Traceback" not in err
        assert "--destination filesystem: dlt's filesystem destination writes files and runs no SQL" in err
        assert "Nothing was read or written" in err
        assert all(words in err for words in WHAT_WORKS), err
        assert "rerun" not in err
    assert requests(small) == before  # refused before any request
    assert not lake.exists()  # and before any load


@pytest.mark.timeout(60)  # a receiver that is not refused serves until stopped
def test_webhooks_serve_refuses_the_filesystem_destination_before_receiving(
    lake: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILJET__WEBHOOKS__USERNAME", "hooks")
    monkeypatch.setenv("MAILJET__WEBHOOKS__PASSWORD", "hooks-password")
    code = run_command(["--destination", "filesystem", "webhooks", "serve", "--port", "0"])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE, err
    assert "writes files and runs no SQL" in err
    assert not lake.exists()


def capabilities(dialect: str | None, replace: tuple[str, ...]) -> DestinationCapabilitiesContext:
    caps = DestinationCapabilitiesContext.generic_capabilities()
    caps.sqlglot_dialect = dialect  # type: ignore[assignment]
    caps.supported_replace_strategies = list(replace)  # type: ignore[arg-type]
    return caps


STAGED = ("truncate-and-insert", "insert-from-staging")


@pytest.mark.unit
@pytest.mark.parametrize(
    ("destination", "runs_sql", "caps", "refused"),
    [
        pytest.param("postgres", True, capabilities("postgres", STAGED), None, id="postgres"),
        pytest.param("motherduck", True, capabilities("duckdb", STAGED), None, id="motherduck"),
        pytest.param("snowflake", True, capabilities("snowflake", STAGED), None, id="snowflake"),
        pytest.param(
            "filesystem",
            False,
            capabilities("duckdb", STAGED),
            "writes files and runs no SQL",
            id="filesystem",
        ),
        pytest.param(
            "sqlalchemy",
            True,
            capabilities("sqlite", STAGED),
            "--destination sqlalchemy on sqlite: each dataset is a database file of its own",
            id="sqlite",
        ),
        pytest.param(
            "my_warehouse",
            True,
            capabilities("postgres", ("truncate-and-insert",)),
            "cannot replace a table in one transaction",
            id="no-staged-replace",
        ),
    ],
)
def test_what_a_destination_needs_is_read_from_its_capabilities(
    destination: str, runs_sql: bool, caps: DestinationCapabilitiesContext, refused: str | None
) -> None:
    told = refusal(destination, runs_sql, caps)
    if refused is None:
        assert told is None
    else:
        assert told is not None and refused in told
        assert all(words in told for words in WHAT_WORKS)
