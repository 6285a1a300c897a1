"""Shared fixtures: sandboxes on free loopback ports, and an authenticated HTTP session; the test tiers.

Tiers (`make test-fast` runs lint and `unit`; `make test` runs them all):
- `unit`: pure cores tested with plain data, in milliseconds; such a test that opens a connection, binds a
  port or starts a process fails (it belongs to another tier);
- `integration`: the wiring, against a real sandbox over HTTP on 127.0.0.1 and real databases (the tier of
  any test not marked otherwise);
- `e2e`: whole commands as users run them: the README walked through, kills and signals mid-run."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox import SandboxApp, SandboxConfig

FIXED_NOW = "2026-06-15T12:00:00Z"


class Api:
    """A requests session against one sandbox, with helpers for the v3 REST and admin surfaces."""

    def __init__(self, app: SandboxApp) -> None:
        self.app = app
        self.base = app.base_url
        self.session = requests.Session()
        self.session.auth = (app.config.api_key, app.config.api_secret)

    def get(self, path: str, **params: object) -> requests.Response:
        return self.session.get(f"{self.base}/v3/REST/{path}", params=params, timeout=30)

    def post(self, path: str, body: object) -> requests.Response:
        return self.session.post(f"{self.base}/v3/REST/{path}", json=body, timeout=30)

    def put(self, path: str, body: object) -> requests.Response:
        return self.session.put(f"{self.base}/v3/REST/{path}", json=body, timeout=30)

    def delete(self, path: str) -> requests.Response:
        return self.session.delete(f"{self.base}/v3/REST/{path}", timeout=30)

    def data(self, path: str, **params: object) -> list[dict[str, object]]:
        """GET and return `Data`, asserting a 200."""
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        return list(response.json()["Data"])

    def admin(self, method: str, path: str, body: object = None) -> requests.Response:
        return requests.request(method, f"{self.base}/_sandbox/{path}", json=body, timeout=60)

    def finish_jobs(self) -> None:
        assert self.admin("POST", "jobs/finish").status_code == 200


BIN = Path(sys.executable).parent / "mailjet-elt"


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`mailjet-elt ARGS` in a subprocess with only the given MAILJET__ variables set."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MAILJET__")}
    return subprocess.run(
        [str(BIN), *args],
        env={**clean, **env},
        cwd=cwd,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


JOB_SECONDS = 0.02  # how long a test sandbox's bulk job runs (a test that needs longer says so)


def creds(api: Api, secret: str | None = None) -> dict[str, str]:
    """The MAILJET__ variables that point the CLI at a sandbox."""
    return {
        "MAILJET__BASE_URL": api.base,
        "MAILJET__API_KEY": api.app.config.api_key,
        "MAILJET__API_SECRET": secret or api.app.config.api_secret,
        # The sandbox's jobs end within JOB_SECONDS: their status is read at once, not after Mailjet's 0.2 s.
        "MAILJET__JOB_POLL_SECONDS": "0.02",
    }


def start(**overrides: object) -> SandboxApp:
    config = SandboxConfig(**{"contacts": 300, "now": FIXED_NOW, "job_seconds": JOB_SECONDS, **overrides})  # type: ignore[arg-type]
    return SandboxApp(config).start()


@pytest.fixture(scope="session")
def shared() -> Iterator[Api]:
    """A read-mostly sandbox with 3,000 contacts shared by the whole session. Tests must not change it."""
    app = start(contacts=3000)
    yield Api(app)
    app.stop()


@pytest.fixture
def api() -> Iterator[Api]:
    """A fresh small sandbox (300 contacts) a test may change freely."""
    app = start()
    yield Api(app)
    app.stop()


TIERS = ("unit", "integration", "e2e")
# Modules whose names start so share one session fixture (the crash world: an extract and two imports): they
# run on one worker, which builds it once, instead of one world per module on each worker.
SHARED_WORKER = ("tests/pipelines/test_crash_",)
# Whole commands killed and rerun a dozen times take minutes on a busy machine; the other tiers keep the
# suite's timeout (pyproject.toml). A test's own timeout mark wins.
E2E_TIMEOUT_SECONDS = 900


# The longest integration modules (over a minute of CPU each on a 2-core machine, most of it one test after
# another on one worker): handed out first in their tier, for the same reason as the e2e tier.
LONGEST = (
    "tests/sync/test_write_quirks.py",
    "tests/sync/test_apply.py",
    "tests/sources/test_quirks.py",
    "tests/sync/test_runs.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test in no tier is an integration test; an e2e test has a timeout of its own. The e2e tests come
    first: they are the longest, and started last they would keep one worker busy long after the other
    has finished (`-n 3 --dist loadfile` hands out whole modules in this order, see below); the unit
    tests, milliseconds each, come last. Within the integration tier, the LONGEST modules come first."""
    for item in items:
        if not any(item.get_closest_marker(tier) for tier in TIERS):
            item.add_marker(pytest.mark.integration)
        if item.get_closest_marker("e2e") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(E2E_TIMEOUT_SECONDS))
    started = ("e2e", "integration", "unit")
    items.sort(
        key=lambda item: (
            next(i for i, tier in enumerate(started) if item.get_closest_marker(tier)),
            item.nodeid.split("::", 1)[0] not in LONGEST,
        )
    )


def worker_scope(nodeid: str) -> str:
    """What goes to one worker whole: the test's module, or its SHARED_WORKER group."""
    module = nodeid.split("::", 1)[0]
    return next((prefix for prefix in SHARED_WORKER if module.startswith(prefix)), module)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadfile` as pytest-xdist does it (whole modules to a worker), except that the modules of
    SHARED_WORKER go to one worker together, and that modules are handed out in the order the collection
    gives them (the e2e tier first, see above) rather than by their number of tests, which would leave the
    longest modules, those with few tests, for the end."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class Scheduling(LoadFileScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return worker_scope(nodeid)

    config.option.loadscopereorder = False
    return Scheduling(config, log)


@pytest.fixture(autouse=True)
def _unit_tests_stay_pure(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A `unit` test that reaches for the network or a process fails, naming what it did."""
    if request.node.get_closest_marker("unit") is None:
        return

    def refuse(what: str) -> object:
        def refused(*args: object, **kwargs: object) -> object:
            raise AssertionError(f"a unit test {what}: keep it pure, or mark it integration")

        return refused

    monkeypatch.setattr(socket.socket, "connect", refuse("opened a connection"))
    monkeypatch.setattr(socket.socket, "bind", refuse("bound a port"))
    monkeypatch.setattr(subprocess.Popen, "__init__", refuse("started a process"))
