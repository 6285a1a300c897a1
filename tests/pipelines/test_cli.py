"""The `mailjet-elt` console script: `sandbox` in the foreground, `demo`, usage errors."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import requests

BIN = Path(sys.executable).parent / "mailjet-elt"


def test_sandbox_command_serves_and_prints_how_to_connect() -> None:
    proc = subprocess.Popen(
        [str(BIN), "sandbox", "--port", "0", "--contacts", "250", "--api-key", "k1", "--api-secret", "s1"],
        stdout=subprocess.PIPE,
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
    finally:
        proc.terminate()
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


def test_demo_tours_a_sandbox_extracts_and_imports_a_csv(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(BIN), "demo", "--contacts", "300"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Newsletter" in out and "Service messages" in out
    assert re.search(r"job \d+: .*Completed \(3 contacts processed\)", out)
    assert "unsubscribed (addnoforce kept the opt-out)" in out
    assert out.count("  subscribed") >= 2
    assert re.search(r"contacts\s+302 rows", out), out
    assert re.search(r"Newsletter\s+[\d,]+ subscribed\s+[\d,]+ unsubscribed", out)
    assert (tmp_path / "demo_mailjet_elt.duckdb").exists()
    assert "contacts 2 · property values 6 · memberships of list Newsletter 2" in out
    assert "rejected 2: 1 invalid, 1 duplicate email (first row kept)" in out
    assert "mailjet.contacts: 302 from Mailjet + 1 only in the file" in out
    assert "leaked" not in result.stderr and "Traceback" not in result.stderr


def test_no_command_prints_help_and_exits_2() -> None:
    result = subprocess.run([str(BIN)], check=False, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "sandbox" in result.stdout
