"""What `webhooks serve` says while it runs: where it listens, one line per batch loaded with its events,
rejections and lag (none for a wake-up that finds nothing), and its totals when it stops; as JSON lines
under `--log-format json`, never with the receiver's credentials."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from pipelines import logs
from pipelines.webhooks import spool_folder
from pipelines.webhooks_log import batch_line
from tests.webhooks.receiver import AUTH, rows, start_receiver
from tests.webhooks.test_receiver import event


@pytest.fixture
def json_console() -> Iterator[None]:
    """The CLI's logging as `--log-format json` sets it, put back as it was afterwards."""
    names = ("", logs.CONSOLE, "dlt")
    saved = [
        (logging.getLogger(n), logging.getLogger(n).handlers[:], logging.getLogger(n).propagate)
        for n in names
    ]
    logs.configure(0, "json")
    yield
    for logger, handlers, propagate in saved:
        logger.handlers[:] = handlers
        logger.propagate = propagate


def console_lines(err: str) -> list[dict[str, Any]]:
    """The console logger's lines among what went to stderr, each parsed (every line is JSON)."""
    lines = [json.loads(line) for line in err.splitlines()]
    assert all("at" in line for line in lines)
    return [line for line in lines if line["logger"] == logs.CONSOLE]


def test_serve_logs_where_it_listens_each_batch_and_its_totals(
    tmp_path: Path, json_console: None, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "hooks.duckdb"
    # A receiver stopped an hour ago left an event in the spool: its lag counts from its arrival there,
    # although the event itself is fresh.
    spool = spool_folder(str(db), None)
    spool.mkdir(parents=True)
    hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    fresh = event("open", 0, time=int(time.time()))
    record = {"kind": "events", "at": hour_ago, "events": [fresh]}
    (spool / "sealed-000000000001.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    running = start_receiver(db)
    url = running.server.url
    # Events Mailjet dated over a year ago, arriving now: their lag counts from now.
    assert requests.post(url, json=[event("open", 1), event("click", 2)], auth=AUTH, timeout=10).ok
    assert requests.post(url, json=event("sent", 3), auth=AUTH, timeout=10).ok
    malformed = requests.post(url, data=b'[{"event": "open"', auth=AUTH, timeout=10)
    assert malformed.status_code == 400
    running.stopped()
    said = console_lines(capsys.readouterr().err)

    started = [line for line in said if "listening on" in line["message"]]
    assert [line["url"] for line in started] == [url]
    batches = [line for line in said if "lag_seconds" in line]
    stopped = said[-1]
    assert "stopped" in stopped["message"]
    assert len(batches) == stopped["batches"] >= 2
    left, *received = batches
    assert (left["events"], left["rejections"]) == (1, 0)
    assert 3600 <= left["lag_seconds"] < 3600 + 60
    assert "loaded 1 event, 0 rejections" in left["message"]
    # One line per batch, none for the wake-ups that found nothing (the first, before listening, did).
    assert all(line["events"] + line["rejections"] > 0 for line in received)
    assert sum(line["events"] for line in received) == 3
    assert sum(line["rejections"] for line in received) == 1
    assert all(0 <= line["lag_seconds"] < 60 for line in received)
    assert {line["rejections_in"] for line in batches} == {"mailjet.webhook_rejections"}
    assert rows(db, "select reason from mailjet.webhook_rejections") == [("malformed_json",)]
    assert {k: stopped[k] for k in ("events", "rejections", "spooled")} == {
        "events": 4,
        "rejections": 1,
        "spooled": 0,
    }
    assert len(said) == 1 + 1 + len(batches) + 1  # left in the spool, listening, the batches, stopped
    everything = json.dumps(said)
    token = base64.b64encode(f"{AUTH[0]}:{AUTH[1]}".encode()).decode()
    assert AUTH[1] not in everything and token not in everything


@pytest.mark.unit
@pytest.mark.parametrize(
    ("events", "rejections", "lag", "words"),
    [
        pytest.param(1, 0, 0.04, "loaded 1 event, 0 rejections", id="one"),
        pytest.param(25_000, 1, 12.34, "loaded 25,000 events, 1 rejection", id="many"),
        pytest.param(0, 2, None, "loaded 0 events, 2 rejections", id="no-arrival-time"),
    ],
)
def test_a_batch_line_says_its_figures_in_words(
    events: int, rejections: int, lag: float | None, words: str
) -> None:
    message, figures = batch_line(events, rejections, lag)
    assert words in message
    assert "(kept in mailjet.webhook_rejections)" in message
    assert f"lag {'unknown' if lag is None else f'{lag:.1f} s'}" in message
    assert figures == {
        "events": events,
        "rejections": rejections,
        "rejections_in": "mailjet.webhook_rejections",
        "lag_seconds": None if lag is None else round(lag, 3),
    }
