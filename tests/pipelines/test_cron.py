"""`run` as cron runs it: no environment at all (`env -i`), no terminal, settings and secrets from the
folder's `.dlt/`, stdout and stderr appended to one log. Whichever step fails, the log is JSON lines that
each say when they were written, each finished step's summary among them, and the last line is the run's
result document naming the step that failed, its message and the exit status."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipelines.load import load
from pipelines.runs_list import recent_runs
from tests.conftest import BIN, JOB_SECONDS, Api, start

GOOD = (
    "-- audience: news\n-- list: Cron news\n-- on_exit: remove\n"
    "create or replace view audience_news as select email from crm.profiles\n"
)
BAD = "-- audience: news\ncreate or replace view audience_news as select email from crm.profiles\n"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Api]:
    app = start(contacts=30, messages=0, job_seconds=JOB_SECONDS)
    yield Api(app)
    app.stop()


def cron(folder: Path, *args: str) -> tuple[int, list[dict[str, Any]]]:
    """`mailjet-elt --log-format json run --format json ARGS >> run.log 2>&1` with an empty environment
    and no terminal; the exit status and the lines this run added to the log."""
    log = folder / "run.log"
    before = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    with log.open("a", encoding="utf-8") as out:
        code = subprocess.run(
            [str(BIN), "--log-format", "json", "run", "--format", "json", *args],
            env={},
            cwd=folder,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
            timeout=120,
        ).returncode
    added = log.read_text(encoding="utf-8").splitlines()[len(before) :]
    return code, [json.loads(line) for line in added]


def settings(folder: Path, api: Api, secret: str) -> None:
    (folder / ".dlt").mkdir(exist_ok=True)
    (folder / ".dlt" / "config.toml").write_text(
        f'[mailjet]\nbase_url = "{api.base}"\njob_poll_seconds = 0.02\n\n[sync]\nread_back_seconds = 0\n',
        encoding="utf-8",
    )
    (folder / ".dlt" / "secrets.toml").write_text(
        f'[mailjet]\napi_key = "{api.app.config.api_key}"\napi_secret = "{secret}"\n', encoding="utf-8"
    )


@pytest.mark.e2e
def test_a_cron_run_that_fails_at_each_step_leaves_a_result_naming_it(sandbox: Api, tmp_path: Path) -> None:
    api = sandbox
    emails = sorted(str(c["Email"]).lower() for c in api.data("contact", Limit=100))[:5]
    (tmp_path / "profiles.csv").write_text("email\n" + "".join(f"{e}\n" for e in emails), encoding="utf-8")
    load(db=str(tmp_path / "mailjet_elt.duckdb"), file=str(tmp_path / "profiles.csv"), table="profiles")
    (tmp_path / "good.sql").write_text(GOOD, encoding="utf-8")
    (tmp_path / "bad.sql").write_text(BAD, encoding="utf-8")

    failures = {
        # A wrong secret: Mailjet answers 401 to the first request.
        "extract": ("not-the-secret", ["--yes", "--audiences", "good.sql"], 2, "401"),
        # An audience with no `-- list:` header, found once the extract is done.
        "plan": (api.app.config.api_secret, ["--yes", "--audiences", "bad.sql"], 2, "-- list:"),
        # No --yes, and no terminal to ask on.
        "apply": (api.app.config.api_secret, ["--audiences", "good.sql"], 2, "--yes"),
    }
    for step, (secret, args, status, says) in failures.items():
        settings(tmp_path, api, secret)
        code, lines = cron(tmp_path, *args)
        assert code == status, (step, lines)
        assert all("at" in line for line in lines), lines
        result = lines[-1]
        assert (result["result"], result["status"], result["failed_step"]) == ("run", "failed", step), result
        assert result["exit_code"] == status and says in result["error"], result
        finished = [line["message"] for line in lines[:-1] if " done: " in line.get("message", "")]
        before = ["extract", "plan", "apply"][: ["extract", "plan", "apply"].index(step)]
        assert [m.split(" done:")[0] for m in finished] == [f"run: {s}" for s in before], lines
        for earlier in before:
            assert result[earlier] is not None, result
        assert result[step] is None
        errors = [line["message"] for line in lines if line.get("level") == "ERROR"]
        assert errors == [f"mailjet-elt run: {result['error']}"], lines
    assert "not-the-secret" not in (tmp_path / "run.log").read_text(encoding="utf-8")
    # And `runs` lists each step that got going, as it ended (the plan of the second run failed reading
    # its audiences file, before it held the warehouse: the run's log has it, `runs` does not).
    listed = [(r.command, r.status) for r in recent_runs(db=str(tmp_path / "mailjet_elt.duckdb")).runs]
    assert listed == [
        ("apply", "failed"),
        ("plan", "ok"),
        ("extract", "ok"),
        ("extract", "ok"),
        ("extract", "failed"),
        ("load", "ok"),
    ]


@pytest.mark.e2e
def test_a_failed_run_keeps_its_exit_status_when_nothing_reads_its_output(
    sandbox: Api, tmp_path: Path
) -> None:
    """Its result document cannot be written (the reader is gone): the run still exits with its
    failure's status (2: a refused key), not with the closed pipe's."""
    settings(tmp_path, sandbox, "not-the-secret")
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [str(BIN), "run", "--yes", "--format", "json"],
            env={},
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            timeout=120,
        )
    finally:
        os.close(write)
    assert done.returncode == 2, done.stderr
    assert "401" in done.stderr
