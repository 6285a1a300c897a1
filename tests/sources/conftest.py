"""Fixtures for extract tests: a sandbox, dlt's env provider pointed at it, and readers of both sides."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests

from tests.conftest import Api, start

# Retries in tests wait milliseconds, not seconds: faults are many and the suite must stay fast.
FAST_RETRIES = {"MAILJET__BACKOFF_SECONDS": "0.01", "MAILJET__MAX_ATTEMPTS": "12"}


def point_at(api: Api, monkeypatch: pytest.MonkeyPatch, **settings: str) -> None:
    """Configure `[mailjet]` for this sandbox through environment variables, as a user would."""
    for name in list(os.environ):
        if name.startswith("MAILJET__"):
            monkeypatch.delenv(name)
    env = {
        "MAILJET__BASE_URL": api.base,
        "MAILJET__API_KEY": api.app.config.api_key,
        "MAILJET__API_SECRET": api.app.config.api_secret,
        **FAST_RETRIES,
        **{f"MAILJET__{k.upper()}": v for k, v in settings.items()},
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def send_sms(api: Api, to: str, text: str = "Your code is 1234") -> dict[str, Any]:
    """One SMS sent through the sandbox's v4 API (none are seeded); its answer."""
    sent = requests.post(
        f"{api.base}/v4/sms-send",
        json={"From": "MJPilot", "To": to, "Text": text},
        headers={"Authorization": f"Bearer {api.app.config.sms_token}"},
        timeout=30,
    )
    assert sent.status_code == 200, sent.text
    return dict(sent.json())


def every_row(api: Api, resource: str, sort: str = "ID", **params: object) -> list[dict[str, Any]]:
    """A whole v3 listing read the plain way: Limit=1000 pages until a short one."""
    rows: list[dict[str, Any]] = []
    while True:
        page = api.data(resource, Limit=1000, Offset=len(rows), Sort=sort, **params)
        rows.extend(page)
        if len(page) < 1000:
            return rows


def campaign_stats(api: Api) -> set[tuple[Any, ...]]:
    """(campaign, total, opened) of every campaign's lifetime counters, as the extract asks for them."""
    rows = every_row(
        api,
        "statcounters",
        sort="SourceID",
        CounterSource="Campaign",
        CounterTiming="Message",
        CounterResolution="Lifetime",
    )
    return {(r["SourceID"], r["Total"], r["MessageOpenedCount"]) for r in rows}


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows of one query against the extract's DuckDB file."""
    with duckdb.connect(str(db), read_only=True) as con:
        return con.sql(sql).fetchall()


def requests_log(api: Api) -> list[dict[str, Any]]:
    response = api.admin("GET", "requests/log")
    assert response.status_code == 200
    return list(response.json()["requests"])


def request_counts(api: Api) -> dict[str, int]:
    return dict(api.admin("GET", "requests").json()["by_endpoint"])


@pytest.fixture
def small() -> Iterator[Api]:
    """A fresh sandbox with 1,200 contacts (two pages) a test may change."""
    app = start(contacts=1200)
    yield Api(app)
    app.stop()
