"""The README's shell blocks run as written: each `sh` block is run by bash, in README order, in a fresh
project folder (the repository's `.venv`, `examples` and `.dlt/config.toml`), against a sandbox. A block
that cannot run here is listed in NOT_RUN with the reason, so every block is one or the other: a new block
must run, or say why not."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Api, creds, start

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BLOCK = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)
# A block's first line: why it is not run by this test.
NOT_RUN = {
    "make demo": "runs the whole suite (`make test`); test_cli.py runs the demo",
    "export MAILJET__API_KEY=...": "credentials of a real account, left for the reader to fill in",
    ".venv/bin/mailjet-elt load profiles.csv": "needs the reader's own CRM files",
    ".venv/bin/mailjet-elt extract": "the audiences walk-through, on the reader's own CRM files",
    ".venv/bin/mailjet-elt plan": "asks before sending, and needs a plan from the reader's data",
    "15 * * * *": "a crontab line, not a command",
    "export MAILJET__WEBHOOKS__USERNAME=mailjet": "a receiver that serves until stopped, and a public URL",
    ".venv/bin/mailjet-elt sandbox --contacts 100000": "a sandbox that serves until stopped",
}


def shell_blocks() -> list[tuple[int, str]]:
    """(line number, body) of every `sh` block of the README."""
    text = README.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, m.start()) + 1, m.group(2)) for m in BLOCK.finditer(text) if m.group(1) == "sh"
    ]


def why_not(body: str) -> str | None:
    """Why the block is not run (its first line starts as a NOT_RUN key), or None: it is run."""
    first = body.strip().splitlines()[0]
    return next((why for start, why in NOT_RUN.items() if first.startswith(start)), None)


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    """A project folder as a reader has it after `make`: the virtualenv, the examples, the settings."""
    folder = tmp_path / "project"
    (folder / ".dlt").mkdir(parents=True)
    (folder / ".venv").symlink_to(ROOT / ".venv")
    (folder / "examples").symlink_to(ROOT / "examples")
    shutil.copy(ROOT / ".dlt" / "config.toml", folder / ".dlt" / "config.toml")
    yield folder


def test_every_shell_block_runs_or_says_why_not(project: Path) -> None:
    blocks = shell_blocks()
    assert blocks, "no sh block found: the README's fences changed"
    starts = [body.strip() for _, body in blocks]
    stale = [key for key in NOT_RUN if not any(start.startswith(key) for start in starts)]
    assert not stale, f"NOT_RUN names blocks the README no longer has: {stale}"
    app = start()  # the reader's Mailjet, for the blocks that do not start a sandbox of their own
    try:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("MAILJET__")},
            **creds(Api(app)),
            "MAILJET__BACKOFF_SECONDS": "0.2",
        }
        # What the README's extract section did before its queries, with that account.
        done = subprocess.run(
            [".venv/bin/mailjet-elt", "extract"],
            check=False,
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        ran = 0
        for line, body in blocks:
            if why_not(body) is None:
                run_block(line, body, project, env)
                ran += 1
    finally:
        app.stop()
    assert ran == len(blocks) - len(NOT_RUN)  # each NOT_RUN entry stands for one block
    print(f"README: {ran} of {len(blocks)} shell blocks run; {len(NOT_RUN)} not run, each with its reason")


def run_block(line: int, body: str, project: Path, env: dict[str, str]) -> None:
    """One block in bash, stopping at the first failing command; what it started in the background is
    stopped with it."""
    # Files, not pipes: a server the block starts in the background keeps its output open.
    out_file, err_file = project / f"block-{line}.out", project / f"block-{line}.err"
    with out_file.open("w") as stdout, err_file.open("w") as stderr:
        process = subprocess.Popen(
            ["bash", "-euo", "pipefail", "-c", body],
            cwd=project,
            env=env,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
        try:
            process.wait(timeout=300)
        finally:
            with_children_stopped(process)
    out, err = out_file.read_text(), err_file.read_text()
    assert process.returncode == 0, (
        f"README line {line}: the block failed ({process.returncode}):\n{body}\n{err[-3000:]}"
    )
    assert "Traceback" not in err, f"README line {line}:\n{err[-3000:]}"
    assert out.strip() or "sql" not in body, f"README line {line}: printed nothing"


def with_children_stopped(process: subprocess.Popen[str]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = 30.0
    while deadline > 0:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
        deadline -= 0.1
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
