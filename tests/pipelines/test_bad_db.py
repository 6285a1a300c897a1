"""`--db` and other arguments that cannot work: exit 2 and a message naming the problem and the fix,
never a traceback, nothing written."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import BIN, Api, creds, run_cli


def prepare(tmp_path: Path, kind: str) -> str:
    """The --db argument of each case."""
    if kind == "directory":
        (tmp_path / "folder").mkdir()
        return str(tmp_path / "folder")
    if kind == "text file":
        (tmp_path / "notes.duckdb").write_text("just some notes\n", encoding="utf-8")
        return str(tmp_path / "notes.duckdb")
    if kind == "random bytes":
        (tmp_path / "noise.duckdb").write_bytes(bytes(range(256)) * 40)
        return str(tmp_path / "noise.duckdb")
    return {
        "empty": "",
        "device": "/dev/null",
        "under /proc": "/proc/mj.duckdb",
        "under /sys": "/sys/mj.duckdb",
    }[kind]


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        pytest.param("directory", "is a directory: name a database file in it", id="directory"),
        pytest.param("text file", "is not a DuckDB database", id="text-file"),
        pytest.param("random bytes", "is not a DuckDB database", id="random-bytes"),
        pytest.param("empty", "--db is empty: name a database file", id="empty"),
        pytest.param("device", "is not a regular file", id="dev-null"),
        pytest.param("under /proc", "choose a writable location", id="proc"),
        pytest.param("under /sys", "choose a writable location", id="sys"),
    ],
)
@pytest.mark.parametrize("command", ["extract", "import-csv"])
def test_unusable_db_exits_2_with_a_message(
    shared: Api, tmp_path: Path, kind: str, message: str, command: str
) -> None:
    db = prepare(tmp_path, kind)
    before = {p: p.stat().st_size for p in tmp_path.rglob("*")}
    export = tmp_path / "export.csv"
    export.write_text("email\nann@example.com\n", encoding="utf-8")
    args = (
        ["extract", "--resources", "contact_lists"] if command == "extract" else ["import-csv", str(export)]
    )
    result = run_cli(["--db", db, *args], creds(shared), tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "internet connection" not in result.stderr
    after = {p: p.stat().st_size for p in tmp_path.rglob("*") if p != export}
    assert after == before, "something was written"


def test_a_read_only_mount_exits_2(shared: Api, tmp_path: Path) -> None:
    mount = tmp_path / "ro"
    mount.mkdir()
    if shutil.which("unshare") is None:
        pytest.skip("needs util-linux's unshare to mount a read-only file system")
    script = f'mount -t tmpfs -o ro,size=1m tmpfs "{mount}" && exec "{BIN}" --db "{mount}/mj.duckdb" extract'
    env = {**creds(shared)}
    probe = subprocess.run(["unshare", "-m", "true"], check=False, capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a mount namespace here: {probe.stderr.decode().strip()}")
    result = run_cli_shell(["unshare", "-m", "sh", "-c", script], env, tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Read-only file system" in result.stderr and "choose a writable location" in result.stderr
    assert "Traceback" not in result.stderr


def run_cli_shell(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MAILJET__")}
    return subprocess.run(
        argv, env={**clean, **env}, cwd=cwd, check=False, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["extract", "--resources", ",,,"], "names no resource", id="resources-commas"),
        pytest.param(["extract", "--resources", ""], "names no resource", id="resources-empty"),
        pytest.param(["demo", "--contacts", "-1"], "-1 is negative", id="demo-negative"),
        pytest.param(["sandbox", "--contacts", "-5"], "-5 is negative", id="sandbox-negative"),
        pytest.param(["--lock-wait", "nan", "extract"], "give a number of seconds", id="lock-wait-nan"),
        pytest.param(["--lock-wait", "-1", "extract"], "give a number of seconds", id="lock-wait-negative"),
        pytest.param(["plan"], "no database there yet", id="plan-nothing-extracted"),
        pytest.param(["apply", "--yes"], "then plan, then apply", id="apply-nothing-planned"),
    ],
)
def test_bad_arguments_exit_2(shared: Api, tmp_path: Path, args: list[str], message: str) -> None:
    result = run_cli(["--db", str(tmp_path / "mj.duckdb"), *args], creds(shared), tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "mj.duckdb").exists()
