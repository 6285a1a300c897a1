"""A PostgreSQL that cannot be used: missing credentials exit 2 naming the setting; a server that does not
answer exits 1 naming its host and port; a refused login exits 2. A message, never a traceback, never the
password."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import psycopg2
import pytest

from pipelines.errors import EXIT_FAILURE, EXIT_USAGE
from pipelines.warehouse.failures import destination_failure
from tests.conftest import BIN

# Mailjet's settings, so that each command gets as far as the database (nothing listens at port 9).
MAILJET = {
    "MAILJET__API_KEY": "key",
    "MAILJET__API_SECRET": "secret",
    "MAILJET__BASE_URL": "http://127.0.0.1:9",
}
SECRET = "s3cr3t-pw"


def mailjet_elt(args: list[str], credentials: str | None, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`mailjet-elt --destination postgres ARGS`, with these credentials alone (None: none at all)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAILJET__", "DESTINATION__"))}
    env |= MAILJET | ({"DESTINATION__POSTGRES__CREDENTIALS": credentials} if credentials else {})
    return subprocess.run(
        [str(BIN), "--destination", "postgres", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def closed_port() -> int:
    """A loopback port nothing listens on (taken, then let go)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("credentials", "lacking"),
    [
        pytest.param(None, "`host`", id="none"),
        pytest.param("postgresql://loader@127.0.0.1:5432/warehouse", "`password`", id="no-password"),
    ],
)
def test_missing_credentials_exit_2_naming_the_setting(
    credentials: str | None, lacking: str, tmp_path: Path
) -> None:
    result = mailjet_elt(["extract"], credentials, tmp_path)
    assert result.returncode == EXIT_USAGE, result.stderr
    assert "Traceback" not in result.stderr
    assert lacking in result.stderr
    assert "DESTINATION__POSTGRES__CREDENTIALS" in result.stderr
    assert "[destination.postgres]" in result.stderr


@pytest.mark.parametrize("command", [["extract"], ["sql", "select 1"], ["plan"]], ids=lambda c: c[0])
def test_a_server_that_does_not_answer_exits_1_naming_host_and_port(
    command: list[str], tmp_path: Path
) -> None:
    port = closed_port()
    result = mailjet_elt(command, f"postgresql://loader:{SECRET}@127.0.0.1:{port}/warehouse", tmp_path)
    assert result.returncode == EXIT_FAILURE, result.stderr
    assert "Traceback" not in result.stderr
    assert f"cannot reach the database server at 127.0.0.1:{port}" in result.stderr
    assert SECRET not in result.stderr + result.stdout


@pytest.mark.unit
def test_a_refused_login_exits_2_naming_the_server() -> None:
    """The words libpq answers a wrong password with (pgserver trusts its local connections, so the tests'
    server never refuses one)."""
    refused = psycopg2.OperationalError(
        'connection to server at "10.1.2.3", port 5433 failed: FATAL:  password authentication failed for '
        'user "loader"\n'
    )
    failure = destination_failure(refused, "postgres")
    assert failure is not None and failure.exit_code == EXIT_USAGE
    assert "the server at 10.1.2.3:5433 refused the login" in str(failure)
    assert "DESTINATION__POSTGRES__CREDENTIALS" in str(failure)
    assert destination_failure(ValueError("password authentication failed"), "postgres") is None
