"""`mailjet-elt webhooks serve`: Mailjet's deliveries in both shapes, with and without credentials, bad
bodies, retried deliveries; and a receiver killed mid-burst loses nothing it acknowledged."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests

from pipelines.errors import CommandError
from pipelines.load import load
from pipelines.webhooks import Loader, serve, spool_folder
from sources.mailjet_webhooks import Spool, WebhooksConfiguration, read_spool
from tests.webhooks.receiver import AUTH, Running, rows, start_receiver


def event(kind: str, n: int, **extra: Any) -> dict[str, Any]:
    return {
        "event": kind,
        "time": 1_760_000_000 + n,
        "MessageID": 10_000 + n,
        "Message_GUID": f"guid-{n}",
        "email": f"person{n}@example.com",
        "mj_campaign_id": 7,
        "mj_contact_id": 100 + n,
        "customcampaign": "",
        "CustomID": "",
        "Payload": "",
        **extra,
    }


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Running]:
    running = start_receiver(tmp_path / "hooks.duckdb")
    yield running
    running.stopped()


def test_both_shapes_with_credentials_and_nothing_without(
    receiver: Running,
) -> None:
    server = receiver.server
    url = server.url
    one = event("open", 1, ip="127.0.0.1", geo="FR", agent="Mozilla")
    many = [event("click", 2, url="https://example.com/a"), event("sent", 3, smtp_reply="250 OK")]
    assert requests.post(url, json=one, auth=AUTH, timeout=10).status_code == 200  # Version 1: an object
    assert requests.post(url, json=many, auth=AUTH, timeout=10).status_code == 200  # Version 2: an array
    assert requests.post(url, json=one, timeout=10).status_code == 401
    assert requests.post(url, json=one, auth=(AUTH[0], "wrong"), timeout=10).status_code == 401
    # Mailjet posts to the URL with the credentials embedded in it.
    embedded = url.replace("http://", f"http://{AUTH[0]}:{AUTH[1]}@")
    unsub = event("unsub", 4, mj_list_id=1001)
    assert requests.post(embedded, json=[unsub], timeout=10).status_code == 200
    # A retried delivery (the same events again) adds nothing; an unknown type and field are kept.
    assert requests.post(url, json=many, auth=AUTH, timeout=10).status_code == 200
    odd = event("newkind", 5, brand_new_field={"nested": [1, 2]})
    assert requests.post(url, json=odd, auth=AUTH, timeout=10).status_code == 200
    # Waiting for events, the receiver holds no lock: another loading command runs at once.
    time.sleep(1.0)
    crm = receiver.db.parent / "profiles.csv"
    crm.write_text("email,firstname\nann@example.com,Ann\n", encoding="utf-8")
    # (were the lock held while waiting, this load would give up after its lock_wait, busy)
    assert load(db=str(receiver.db), file=str(crm), table="profiles", lock_wait=20).rows == 1
    db = receiver.stopped()
    found = rows(
        db, "select event, message_id, email, url, mj_list_id, geo from mailjet.events order by time"
    )
    assert found == [
        ("open", 10_001, "person1@example.com", None, None, "FR"),
        ("click", 10_002, "person2@example.com", "https://example.com/a", None, None),
        ("sent", 10_003, "person3@example.com", None, None, None),
        ("unsub", 10_004, "person4@example.com", None, 1001, None),
        ("newkind", 10_005, "person5@example.com", None, None, None),
    ]
    [(raw,)] = rows(db, "select raw from mailjet.events where event = 'newkind'")
    assert json.loads(raw)["brand_new_field"] == {"nested": [1, 2]}
    [(at,)] = rows(db, "select time from mailjet.events where event = 'open'")
    assert at.timestamp() == 1_760_000_001


def test_bad_bodies_are_answered_400_or_413_and_recorded(
    receiver: Running,
) -> None:
    server = receiver.server
    url = server.url
    headers = {"Content-Type": "application/json"}
    assert (
        requests.post(url, data=b'{"event": "open", ', auth=AUTH, headers=headers, timeout=10).status_code
        == 400
    )
    assert (
        requests.post(url, data=b'"just a string"', auth=AUTH, headers=headers, timeout=10).status_code == 400
    )
    mixed = [event("open", 1), 42]
    assert requests.post(url, json=mixed, auth=AUTH, timeout=10).status_code == 200  # the event is kept
    huge = b"[" + b" " * (server.config.max_body_bytes + 1) + b"]"
    assert requests.post(url, data=huge, auth=AUTH, headers=headers, timeout=30).status_code == 413
    assert requests.get(url.replace("/events", "/health"), timeout=10).status_code == 200
    db = receiver.stopped()
    reasons = rows(db, "select reason from mailjet.webhook_rejections order by reason")
    assert reasons == [("malformed_json",), ("not_an_event",), ("not_events",), ("too_large",)]
    assert rows(db, "select count(*) from mailjet.events") == [(1,)]


SERVE = [sys.executable, "-m", "pipelines.cli"]


def start_cli(db: Path, port: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "MAILJET__WEBHOOKS__USERNAME": AUTH[0],
        "MAILJET__WEBHOOKS__PASSWORD": AUTH[1],
        "MAILJET__WEBHOOKS__FLUSH_SECONDS": "0.5",
    }
    process = subprocess.Popen(
        [*SERVE, "--db", str(db), "webhooks", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    assert process.stderr is not None
    said = ""
    for line in process.stderr:  # the console's lines; a restarted receiver first loads what is spooled
        said += line
        if "listening on" in line:
            return process
    raise AssertionError(f"the receiver did not start:\n{said}")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_killed_mid_burst_loses_nothing_it_acknowledged(tmp_path: Path) -> None:
    db = tmp_path / "hooks.duckdb"
    port = free_port()
    url = f"http://127.0.0.1:{port}/events"
    process = start_cli(db, port)
    acknowledged: set[int] = set()
    lock = threading.Lock()
    halt = threading.Event()

    def sender(worker: int) -> None:
        session = requests.Session()
        n = worker * 1_000_000
        while not halt.is_set():
            batch = [event("open", n + i) for i in range(20)]
            n += 20
            try:
                reply = session.post(url, json=batch, auth=AUTH, timeout=5)
            except requests.RequestException:
                return
            if reply.status_code == 200:
                with lock:
                    acknowledged.update(e["MessageID"] for e in batch)

    with ThreadPoolExecutor(4) as pool:
        for worker in range(4):
            pool.submit(sender, worker)
        time.sleep(2.5)  # a few loads have happened, others are in flight
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        halt.set()
    assert len(acknowledged) > 1000
    # Restarted, it loads what was spooled; a second start finds nothing more; Mailjet's retries of the
    # deliveries it did not acknowledge would come again.
    process = start_cli(db, port)
    # And a Ctrl-C loads what came last before the receiver exits.
    last = [event("open", 999_000_000 + i) for i in range(5)]
    assert requests.post(url, json=last, auth=AUTH, timeout=10).status_code == 200
    acknowledged.update(e["MessageID"] for e in last)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode in (0, 130), err
    loaded = rows(db, "select message_id, count(*) from mailjet.events group by message_id")
    counts = dict(loaded)
    assert acknowledged <= set(counts), f"{len(acknowledged - set(counts))} acknowledged events were lost"
    assert set(counts.values()) == {1}, "an event was loaded twice"


def test_odd_values_load_as_null_and_stay_in_raw(receiver: Running) -> None:
    url = receiver.server.url
    huge = event("open", 1, MessageID=2**63, mj_campaign_id="99999999999999999999", blocked="maybe")
    assert requests.post(url, json=huge, auth=AUTH, timeout=10).status_code == 200
    assert requests.post(url, json=event("open", 2), auth=AUTH, timeout=10).status_code == 200
    db = receiver.stopped()
    found = rows(db, "select message_id, mj_campaign_id, blocked, raw from mailjet.events order by time")
    assert [r[:3] for r in found] == [(None, None, None), (10_002, 7, None)]
    assert json.loads(found[0][3])["MessageID"] == 2**63


def test_a_refused_request_closes_its_connection(receiver: Running) -> None:
    """Left unread, a refused request's body would be read as a request of its own."""
    import socket

    host, port = receiver.server.server_address[:2]
    smuggled = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    request = (
        b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(smuggled)}\r\n\r\n".encode()
        + smuggled
    )
    with socket.create_connection((str(host), int(port)), timeout=10) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    assert answer.count(b"HTTP/1.1 ") == 1 and answer.startswith(b"HTTP/1.1 401")
    lower = requests.post(
        receiver.server.url,
        json=event("open", 1),
        headers={"Authorization": "basic " + base64.b64encode(f"{AUTH[0]}:{AUTH[1]}".encode()).decode()},
        timeout=10,
    )
    assert lower.status_code == 200  # the scheme's case does not matter


def test_one_receiver_per_database(receiver: Running) -> None:
    with pytest.raises(CommandError, match="another receiver") as caught:
        serve(db=str(receiver.db), port=0, config=receiver.server.config, stop=threading.Event())
    assert caught.value.exit_code == 1


def test_a_spool_line_that_cannot_be_read_is_kept_as_a_rejection(tmp_path: Path) -> None:
    spool = tmp_path / "sealed-000000000001.jsonl"
    good = json.dumps({"kind": "events", "at": "2026-06-15T12:00:00+00:00", "events": [event("open", 1)]})
    spool.write_text(f"{good}\n{{broken\n{good}\n{{cut short", encoding="utf-8")
    events, rejections = read_spool(spool)
    assert len(events) == 2  # the retried copy: the merge keeps one
    assert [r["reason"] for r in rejections] == ["spool_line_unreadable"]  # the last, cut short: passed over
    assert rejections[0]["body"] == "{broken"


def test_a_restarted_receiver_publishes_the_views_its_killed_run_did_not(tmp_path: Path) -> None:
    # What a receiver killed between a load and its publish leaves: the events table, no `mailjet` views.
    first = start_receiver(tmp_path / "hooks.duckdb")
    assert requests.post(first.server.url, json=event("open", 1), auth=AUTH, timeout=10).status_code == 200
    db = first.stopped()
    with duckdb.connect(str(db)) as con:
        con.execute("drop schema mailjet cascade")
    assert rows(db, "select count(*) from mailjet_api.events") == [(1,)]
    second = start_receiver(db)
    assert requests.post(second.server.url, json=event("click", 2), auth=AUTH, timeout=10).status_code == 200
    second.stopped()
    assert rows(db, "select event, count(*) from mailjet.events group by 1 order by 1") == [
        ("click", 1),
        ("open", 1),
    ]


def test_a_burst_the_loads_cannot_keep_up_with_waits_on_disk_in_bounded_files(tmp_path: Path) -> None:
    """While no load can happen (another command holds the database), deliveries go on being acknowledged
    into spool files of at most about `flush_events` each, so that a load never has to hold more than a
    group of them in memory; once the database is free, every event loads once."""
    from pipelines.warehouse.lock import WriterLock

    db = tmp_path / "hooks.duckdb"
    holder = WriterLock(tmp_path / f".{db.name}.dlt" / "mailjet_elt.lock", "extract", 5)
    holder.acquire()
    running = start_receiver(db, lock_wait=0.1, flush_events=100)
    try:
        url = running.server.url
        sent = [event("open", n) for n in range(1_000)]
        for start in range(0, len(sent), 30):
            assert requests.post(url, json=sent[start : start + 30], auth=AUTH, timeout=10).status_code == 200
        spool = running.server.spool
        # Counted under the spool's lock: a file sealed between a look at the folder and a look at the
        # current file's count would be in neither.
        assert spool.waiting() == len(sent)
        sizes = [len(read_spool(path)[0]) for path in spool.sealed()]
        assert len(sizes) >= 7 and max(sizes) <= 100 + 30  # the limit, and the delivery that crossed it
        health = requests.get(url.replace("/events", "/health"), timeout=10).json()
        assert health["spooled"] == len(sent) and health["loaded"] == 0
    finally:
        holder.release()
    running.stopped()
    assert rows(db, "select count(*), count(distinct message_id) from mailjet.events") == [(1_000, 1_000)]


def test_a_sealed_file_never_takes_the_number_of_a_file_set_aside(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    spool.folder.mkdir()
    kept = spool.folder / "unloadable-000000000001.jsonl"
    kept.write_bytes(b'{"kind": "events", "events": []}\n')
    spool.open()
    try:
        spool.append({"kind": "events", "at": "now", "events": [event("open", 1)]}, 1)
        assert spool.waiting() == 1
        sealed = spool.seal()
        assert sealed is not None and sealed.name == "sealed-000000000002.jsonl"
        assert kept.read_bytes() == b'{"kind": "events", "events": []}\n'
        assert spool.waiting() == 1  # sealed, not loaded
        spool.gone([sealed])
        assert spool.waiting() == 0
    finally:
        spool.close()


def test_after_a_failed_fsync_nothing_more_is_acknowledged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Linux reports a failed writeback once: a later fsync that succeeds does not vouch for what was
    written before it, so the spool acknowledges nothing more (the receiver answers 503: Mailjet keeps the
    events and retries) until it is restarted."""
    spool = Spool(tmp_path / "spool")
    spool.open()
    real = os.fsync
    failing = [True]

    def fsync(fd: int) -> None:
        if failing.pop() if failing else False:
            raise OSError(5, "Input/output error")
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    try:
        record = {"kind": "events", "at": "now", "events": [event("open", 1)]}
        with pytest.raises(OSError, match="Input/output error"):
            spool.append(record, 1)
        with pytest.raises(OSError, match="restart the receiver"):
            spool.append(record, 1)  # fsync works again, and still nothing is acknowledged
    finally:
        monkeypatch.setattr(os, "fsync", real)
        spool.close()


def test_a_spool_that_fails_is_answered_503_and_said_in_health(tmp_path: Path) -> None:
    running = start_receiver(tmp_path / "hooks.duckdb")
    try:
        url = running.server.url
        running.server.spool.failed = OSError(5, "Input/output error")
        reply = requests.post(url, json=[event("open", 1)], auth=AUTH, timeout=10)
        assert reply.status_code == 503
        health = requests.get(url.replace("/events", "/health"), timeout=10).json()
        assert "restart the receiver" in health["spool"]
    finally:
        running.server.spool.failed = None
        running.stopped()


def test_a_seal_that_cannot_start_the_next_file_leaves_appends_working(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool = Spool(tmp_path / "spool")
    spool.open()
    try:
        record = {"kind": "events", "at": "now", "events": [event("open", 1)]}
        spool.append(record, 1)
        start = Spool._start

        def too_many_files(self: Spool) -> Any:
            raise OSError(24, "Too many open files")

        monkeypatch.setattr(Spool, "_start", too_many_files)
        with pytest.raises(OSError, match="Too many open files"):
            spool.seal()
        monkeypatch.setattr(Spool, "_start", start)
        spool.append(record, 1)  # the next file is started then
        assert [len(read_spool(p)[0]) for p in spool.sealed()] == [1]
        assert spool.pending_events == 1
    finally:
        spool.close()


def test_a_load_a_stop_interrupts_keeps_its_events_spooled_for_the_last_load(tmp_path: Path) -> None:
    """Ctrl-C or SIGTERM during a load stops that load (dlt checks its flag): the spool file it held is not
    the cause, so it stays sealed, never set aside as unloadable, and the receiver's last load takes it."""
    from dlt.common.runtime import signals

    db = tmp_path / "hooks.duckdb"
    spool = Spool(spool_folder(str(db), None))
    spool.open()
    loader = Loader(spool, str(db), None, WebhooksConfiguration(username=AUTH[0], password=AUTH[1]), 5)
    try:
        spool.append({"kind": "events", "at": "2026-06-15T12:00:00+00:00", "events": [event("open", 1)]}, 1)
        signals.set_received_signal(int(signal.SIGINT))
        try:
            assert loader.flush() == 0
        finally:
            signals.set_received_signal(0)
        assert [p.name for p in spool.folder.glob("*-*.jsonl")] == ["sealed-000000000001.jsonl"]
        assert loader.flush() == 1
    finally:
        spool.close()
    assert rows(db, "select count(*) from mailjet.events") == [(1,)]
