"""`mailjet-elt check` and `mailjet-elt api` against a sandbox, configured through dlt's env provider."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from pipelines.cli import run_command
from tests.conftest import Api, creds
from tests.conftest import run_cli as run


def test_check_ok(api: Api, tmp_path: Path) -> None:
    result = run(["check"], creds(api), tmp_path)
    assert result.returncode == 0, result.stderr
    assert "300 contacts in 5 lists" in result.stdout


def test_check_bad_secret_exits_2_and_never_prints_it(api: Api, tmp_path: Path) -> None:
    result = run(["check"], creds(api, secret="wrong-secret-123"), tmp_path)
    assert result.returncode == 2
    assert "refused the API key (401)" in result.stderr and "MAILJET__API_SECRET" in result.stderr
    assert "wrong-secret-123" not in result.stderr + result.stdout


def test_check_missing_secret_names_the_setting(tmp_path: Path) -> None:
    result = run(["check"], {"MAILJET__API_KEY": "k"}, tmp_path)
    assert result.returncode == 2
    assert "api_secret" in result.stderr and "MAILJET__API_SECRET" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_unreachable_exits_1(tmp_path: Path) -> None:
    env = {"MAILJET__BASE_URL": "http://127.0.0.1:9", "MAILJET__API_KEY": "k", "MAILJET__API_SECRET": "s"}
    result = run(["check"], env, tmp_path)
    assert result.returncode == 1 and "cannot reach Mailjet at http://127.0.0.1:9" in result.stderr


def test_api_get_with_params_prints_json(api: Api, tmp_path: Path) -> None:
    result = run(
        ["api", "GET", "contactslist", "--param", "Limit=2", "--param", "Sort=ID DESC"], creds(api), tmp_path
    )
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert [row["ID"] for row in body["Data"]] == [1005, 1004]


def test_api_post_and_errors(api: Api, tmp_path: Path) -> None:
    made = run(["api", "POST", "contact", "--data", '{"Email": "cli@example.com"}'], creds(api), tmp_path)
    assert made.returncode == 0 and json.loads(made.stdout)["Data"][0]["Email"] == "cli@example.com"
    dup = run(["api", "POST", "contact", "--data", '{"Email": "cli@example.com"}'], creds(api), tmp_path)
    assert dup.returncode == 1 and "MJ18" in dup.stderr
    bad = run(["api", "POST", "contact", "--data", "{oops"], creds(api), tmp_path)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    bad_param = run(["api", "GET", "contact", "--param", "Limit"], creds(api), tmp_path)
    assert bad_param.returncode == 2 and "NAME=VALUE" in bad_param.stderr


def patient_settings(monkeypatch: pytest.MonkeyPatch, folder: Path, base_url: str) -> None:
    """Credentials for `base_url`, with retries so many and so slow that a retried failure would take
    minutes; run from `folder`."""
    monkeypatch.chdir(folder)
    for name, value in {
        "MAILJET__BASE_URL": base_url,
        "MAILJET__API_KEY": "k",
        "MAILJET__API_SECRET": "s",
        "MAILJET__MAX_ATTEMPTS": "8",
        "MAILJET__BACKOFF_SECONDS": "30",
    }.items():
        monkeypatch.setenv(name, value)


def test_a_host_that_does_not_resolve_fails_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    looked: list[str] = []

    def no_such_name(host: str, *args: object, **kwargs: object) -> list[object]:
        looked.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)  # what the resolver answers for a typo
    patient_settings(monkeypatch, tmp_path, "https://api.mailjet.example")
    assert run_command(["check"]) == 1
    err = capsys.readouterr().err
    assert "cannot resolve api.mailjet.example (Name or service not known): check MAILJET__BASE_URL" in err
    assert looked == ["api.mailjet.example"]  # looked up once; no request, no retry


def test_a_resolver_that_fails_for_now_is_retried_like_a_dropped_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sources.mailjet.client import HttpSettings, MailjetHttp
    from sources.mailjet.exceptions import MailjetHostUnknown, MailjetServerError

    def not_now(host: str, *args: object, **kwargs: object) -> list[object]:
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", not_now)
    http = MailjetHttp(
        "https://api.mailjet.example", None, HttpSettings(max_attempts=3, backoff_seconds=0.01)
    )
    with pytest.raises(MailjetServerError) as caught:
        http.get("contact", {"Limit": 1})
    assert not isinstance(caught.value, MailjetHostUnknown)
    assert sum(http.stats.retries.values()) == 2  # retried: the name may resolve in a moment


def free_port() -> int:
    """A port of 127.0.0.1 nothing listens on (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_refused_first_connection_fails_at_once_naming_host_and_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    patient_settings(monkeypatch, tmp_path, f"http://127.0.0.1:{port}")
    assert run_command(["check"]) == 1
    assert f"nothing answers at 127.0.0.1:{port} (connection refused): check MAILJET__BASE_URL" in (
        capsys.readouterr().err
    )
    assert run_command(["--db", str(tmp_path / "w.duckdb"), "extract", "--resources", "contacts"]) == 1
    assert f"nothing answers at 127.0.0.1:{port}" in capsys.readouterr().err


def test_a_refusal_after_an_answer_is_retried_as_a_blip() -> None:
    from sources.mailjet.client import HttpSettings, MailjetHttp
    from sources.mailjet.exceptions import MailjetServerError, MailjetUnreachable
    from tests.conftest import start

    app = start(contacts=3, messages=0)
    http = MailjetHttp(
        app.base_url,
        (app.config.api_key, app.config.api_secret),
        HttpSettings(max_attempts=3, backoff_seconds=0.01),
    )
    try:
        assert len(http.get("contact", {"Limit": 10})) == 3
    finally:
        app.stop()  # the server goes away: its port refuses from now on
    http.close()  # and the connection kept alive to it too
    with pytest.raises(MailjetServerError) as caught:
        http.get("contact", {"Limit": 10})
    assert not isinstance(caught.value, MailjetUnreachable) and "Connection refused" in str(caught.value)
    assert sum(http.stats.retries.values()) == 2
