"""The `mailjet-elt` console script: `sandbox` in the foreground, usage errors (`demo`: test_demo.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import duckdb
import pytest
import requests

from tests.conftest import Api, creds, run_cli

BIN = Path(sys.executable).parent / "mailjet-elt"


def test_sandbox_command_serves_and_prints_how_to_connect() -> None:
    """It serves, says how to connect, and stops quietly on SIGTERM, even once its reader is gone."""
    proc = subprocess.Popen(
        [str(BIN), "sandbox", "--port", "0", "--contacts", "250", "--api-key", "k1", "--api-secret", "s1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "MAILJET__BASE_URL" in line:
                break
        text = "".join(lines)
        url = re.search(r"listening on (http://127\.0\.0\.1:\d+)", text)
        assert url, text
        assert "API key:    k1" in text and "API secret: s1" in text
        response = requests.get(f"{url.group(1)}/v3/REST/contact", params={"countOnly": 1}, auth=("k1", "s1"))
        assert response.json()["Total"] == 250
        proc.stdout.close()  # whoever read its output is gone
        proc.terminate()
        _, err = proc.communicate(timeout=10)
        assert proc.returncode == 0 and "Traceback" not in err, err
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_sandbox_bad_options_exit_2_with_a_message() -> None:
    result = subprocess.run(
        [str(BIN), "sandbox", "--port", "0", "--faults", "error_rate=3"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "error_rate=3.0: must be between 0 and 1" in result.stderr and "Traceback" not in result.stderr


def test_no_command_prints_help_and_exits_2() -> None:
    result = subprocess.run([str(BIN)], check=False, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "sandbox" in result.stdout


def test_global_options_before_or_after_the_command() -> None:
    from pipelines.cli import build_parser

    parser = build_parser()
    before = parser.parse_args(["--db", "a.duckdb", "-v", "--lock-wait", "5", "sql", "select 1"])
    after = parser.parse_args(["sql", "select 1", "--db", "a.duckdb", "-v", "--lock-wait", "5"])
    for args in (before, after):
        verbose = args.verbose + getattr(args, "verbose_after", 0)  # as run_command counts them
        assert (args.db, verbose, args.lock_wait, args.query) == ("a.duckdb", 1, 5.0, "select 1")
    # Given after the command, an option wins; one not given keeps its value from before (or default).
    both = parser.parse_args(["--db", "a.duckdb", "--log-format", "json", "extract", "--db", "b.duckdb"])
    assert (both.db, both.log_format, both.destination) == ("b.duckdb", "json", None)
    hooks = parser.parse_args(["webhooks", "serve", "--db", "h.duckdb"])
    assert hooks.db == "h.duckdb"
    # -v before and after add up (run_command does the sum, as here).
    more = parser.parse_args(["-v", "extract", "-v"])
    assert more.verbose + more.verbose_after == 2


@pytest.mark.unit
@pytest.mark.parametrize(
    ("argv", "said"),
    [
        pytest.param(["plna"], "invalid choice: 'plna'", id="command"),
        pytest.param(["sql", "--format", "jsn", "select 1"], "invalid choice: 'jsn'", id="format"),
    ],
)
def test_a_mistyped_choice_names_the_nearest(
    capsys: pytest.CaptureFixture[str], argv: list[str], said: str
) -> None:
    from pipelines.cli import build_parser

    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(argv)
    err = capsys.readouterr().err
    nearest = "plan" if argv == ["plna"] else "json"
    assert stopped.value.code == 2 and said in err and f"did you mean `{nearest}`?" in err
    with pytest.raises(SystemExit):
        build_parser().parse_args(["zzz"])
    assert "did you mean" not in capsys.readouterr().err  # nothing near: nothing suggested


@pytest.mark.unit
def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    from pipelines.cli import build_parser

    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out == f"mailjet-elt {version('mailjet-elt')}\n"


def test_the_help_lists_what_extract_reads() -> None:
    from pipelines.cli import RESOURCES
    from pipelines.extract import ALL_RESOURCES

    assert tuple(ALL_RESOURCES) == RESOURCES
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "extract", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert all(name in done.stdout for name in RESOURCES)


def test_verbose_says_what_each_resource_reads_and_what_it_cost(api: Api, tmp_path: Path) -> None:
    quiet = run_cli(["extract", "--resources", "contacts,opens"], creds(api), tmp_path)
    assert quiet.returncode == 0 and " INFO " not in quiet.stderr
    told = run_cli(["extract", "-v", "--resources", "contacts,opens"], creds(api), tmp_path)
    assert told.returncode == 0, told.stderr
    contacts = len(api.data("contact", Limit=1000))
    assert f"contacts: {contacts} rows counted at /v3/REST/contact; reading the whole listing" in told.stderr
    # The second run: opens from the cursor, less the lag and the horizon; every request tallied.
    assert "opens: " in told.stderr and "from the cursor, minus the lag and 30 days" in told.stderr
    assert "GET /v3/REST/contact: 2 requests" in told.stderr  # a count and one page


IMPORTED = """
import os, sys
from pipelines.cli import run_command
code = run_command(sys.argv[1:])
print(code, sorted(m for m in os.environ["HEAVY"].split() if m in sys.modules))
"""


def imported(args: list[str], heavy: str, env: dict[str, str], cwd: Path) -> str:
    """`mailjet-elt ARGS` in a fresh process: its exit status, and which modules of `heavy` it imported."""
    done = subprocess.run(
        [sys.executable, "-c", IMPORTED, *args],
        env={**os.environ, **env, "HEAVY": heavy},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout, done.stderr
    return done.stdout.splitlines()[-1]


def test_small_commands_import_only_what_they_use(api: Api, tmp_path: Path) -> None:
    """Printing a result imports no other command's flow; `check` no Arrow; `sql` on a DuckDB file named by
    --db imports no dlt at all."""
    flows = "pandas great_expectations pipelines.sync pipelines.apply pipelines.extract"
    # Nor Arrow (only a page's conversion needs it), nor the db setting (read by the database's commands).
    light = f"{flows} pyarrow pipelines.warehouse.db_setting"
    assert imported(["check"], light, creds(api), tmp_path) == "0 []"
    duckdb.connect(str(tmp_path / "w.duckdb")).close()
    assert imported(["sql", "--db", "w.duckdb", "select 42"], f"dlt {flows}", {}, tmp_path) == "0 []"
