"""`--log-format json` gives JSON lines only, dlt's included; `-vv` adds the project's debug lines, never a
library's; no command reaches beyond loopback."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.extract import extract
from pipelines.load import load
from pipelines.logs import configure, console
from tests.conftest import BIN, Api, creds, run_cli

ROOT = Path(__file__).resolve().parents[2]

# Loaded by the child interpreter (PYTHONPATH): an audit hook that refuses, and records, any connection
# or name lookup that is not for a loopback address.
GUARD = """
import os, sys

LOOPBACK = {"127.0.0.1", "localhost", "::1", None, ""}
RECORD = os.environ["NETWORK_GUARD_RECORD"]


def _host(address):
    if isinstance(address, tuple) and address:
        return str(address[0])
    return None


def _hook(event, args):
    host = None
    if event == "socket.connect":
        host = _host(args[1])
    elif event == "socket.getaddrinfo":
        host = args[0].decode() if isinstance(args[0], bytes) else args[0]
    else:
        return
    if host in LOOPBACK or (isinstance(host, str) and (host.startswith("127.") or host.startswith("/"))):
        return
    with open(RECORD, "a") as out:
        out.write(f"{event} {host}\\n")
    raise PermissionError(f"network guard: {event} to {host} refused")


sys.addaudithook(_hook)
"""


def run_guarded(
    args: list[str], env: dict[str, str], cwd: Path
) -> tuple[subprocess.CompletedProcess[str], str]:
    guard = cwd / "guard"
    guard.mkdir(exist_ok=True)
    (guard / "sitecustomize.py").write_text(GUARD, encoding="utf-8")
    record = cwd / "attempts.txt"
    record.write_text("", encoding="utf-8")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MAILJET__", "RUNTIME__"))}
    result = subprocess.run(
        [str(BIN), *args],
        env={**clean, **env, "PYTHONPATH": str(guard), "NETWORK_GUARD_RECORD": str(record)},
        cwd=cwd,
        check=False,
        capture_output=True,
        text=True,
        timeout=180,
    )
    return result, record.read_text(encoding="utf-8")


def test_the_guard_catches_an_outbound_connection(tmp_path: Path) -> None:
    """The guard itself works: a lookup of a public name is refused and recorded."""
    (tmp_path / "guard").mkdir()
    (tmp_path / "guard" / "sitecustomize.py").write_text(GUARD, encoding="utf-8")
    record = tmp_path / "attempts.txt"
    record.write_text("", encoding="utf-8")
    python = BIN.parent / "python"
    code = (
        "import socket\ntry:\n    socket.getaddrinfo('example.com', 443)\nexcept PermissionError:\n    pass"
    )
    subprocess.run(
        [str(python), "-c", code],
        env={**os.environ, "PYTHONPATH": str(tmp_path / "guard"), "NETWORK_GUARD_RECORD": str(record)},
        check=True,
        timeout=60,
    )
    assert record.read_text(encoding="utf-8") == "socket.getaddrinfo example.com\n"


def test_extract_and_import_attempt_no_outbound_connection(shared: Api, tmp_path: Path) -> None:
    db = str(tmp_path / "mj.duckdb")
    extracted, attempts = run_guarded(["-vv", "--db", db, "extract"], creds(shared), tmp_path)
    assert extracted.returncode == 0, extracted.stderr
    assert attempts == "", attempts
    export = tmp_path / "export.csv"
    export.write_text("email,name\nann@example.com,Ann\n", encoding="utf-8")
    imported, attempts = run_guarded(["-vv", "--db", db, "import-csv", str(export)], {}, tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert attempts == "", attempts


def json_lines(text: str) -> list[dict[str, object]]:
    """Every line as a JSON object; fails naming the first line that is not one."""
    entries = []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            raise AssertionError(f"not JSON: {line!r}") from None
        assert isinstance(entry, dict), line
        entries.append(entry)
    return entries


def test_json_log_format_gives_only_json_lines(shared: Api, tmp_path: Path) -> None:
    db = str(tmp_path / "mj.duckdb")
    env = {**creds(shared), "RUNTIME__LOG_LEVEL": "INFO"}  # dlt's own info lines too
    extracted, _ = run_guarded(["-vv", "--log-format", "json", "--db", db, "extract"], env, tmp_path)
    assert extracted.returncode == 0, extracted.stderr
    entries = json_lines(extracted.stderr)
    loggers = {str(e["logger"]) for e in entries}
    assert any(name.startswith("dlt") for name in loggers), loggers  # dlt's lines are there, as JSON
    # -vv: every request, in the project's own words; none of urllib3's internals.
    requests = [e for e in entries if e["logger"] == "sources.mailjet.client" and e["level"] == "DEBUG"]
    assert any(str(e["message"]).startswith("GET /v3/REST/contact?") for e in requests), loggers
    assert not any(name.startswith("urllib3") for name in loggers), loggers
    export = tmp_path / "bad.csv"
    export.write_text("email,name\nnot-an-email,x\nann@example.com,Ann\n", encoding="utf-8")
    imported, _ = run_guarded(["--log-format", "json", "--db", db, "import-csv", str(export)], {}, tmp_path)
    assert imported.returncode == 0, imported.stderr
    json_lines(imported.stderr)
    failed, _ = run_guarded(
        ["--log-format", "json", "--db", str(tmp_path), "extract"], creds(shared), tmp_path
    )
    assert failed.returncode == 2
    (entry,) = json_lines(failed.stderr)
    assert "is a directory" in str(entry["message"]) and entry["level"] == "ERROR"


def test_plan_vv_prints_no_library_debug(api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = str(tmp_path / "mj.duckdb")
    for name, value in creds(api).items():
        monkeypatch.setenv(name, value)
    extract(db=db)  # the setup in-process: the plans below are the commands under test
    load(db=db, file=str(ROOT / "examples" / "profiles.csv"), table="profiles")
    load(db=db, file=str(ROOT / "examples" / "consent.csv"), table="consent_events")
    audiences = str(ROOT / "audiences.sql")
    planned = run_cli(
        ["--db", db, "-vv", "--log-format", "json", "plan", "--audiences", audiences], {}, tmp_path
    )
    assert planned.returncode == 0, planned.stderr[-2000:]
    loggers = {str(e["logger"]) for e in json_lines(planned.stderr)}
    assert not any(name.startswith("great_expectations") for name in loggers), loggers
    assert len(planned.stderr) < 20_000, f"{len(planned.stderr):,} bytes on stderr"
    planned = run_cli(["--db", db, "-vv", "plan", "--audiences", audiences], {}, tmp_path)
    assert planned.returncode == 0, planned.stderr[-2000:]
    assert "great_expectations" not in planned.stderr and len(planned.stderr) < 20_000


@pytest.mark.unit
def test_log_lines_go_to_the_stderr_of_the_moment_not_to_a_replaced_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A stream that was stderr when logging was configured may be closed since (a test harness does
    that): lines go to the current stderr, and nothing fails."""
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    configure(0, "text")
    first.close()
    monkeypatch.setattr(sys, "stderr", second)
    console().info("to the current stderr")
    logging.getLogger("sandbox").warning("a library line")
    assert "to the current stderr" in second.getvalue()
    assert "a library line" in second.getvalue()
    assert "Logging error" not in second.getvalue()
