"""Benchmark of `mailjet-elt webhooks serve`: sustained events/s on loopback and answer latency.

The receiver runs as the CLI runs it, in its own process, into a fresh DuckDB file. Client threads post
for `--seconds` each: Version 1 (one event per POST, the harshest case) and Version 2 (arrays of
`--batch` events). Every answer is timed; afterwards the receiver is stopped (it loads what it holds)
and the events in `mailjet.events` are counted against those acknowledged. Prints figures; asserts
nothing.

    .venv/bin/python bench/webhooks.py
    .venv/bin/python bench/webhooks.py --seconds 20 --clients 8 --batch 100
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import requests

AUTH = ("bench", "bench-secret")
GOAL = 2000  # events/s


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def event(n: int) -> dict[str, Any]:
    return {
        "event": "open",
        "time": 1_760_000_000 + n // 1000,
        "MessageID": n,
        "Message_GUID": f"guid-{n}",
        "email": f"person{n}@example.com",
        "mj_campaign_id": 7,
        "mj_contact_id": n,
        "customcampaign": "",
        "CustomID": "",
        "Payload": "",
        "ip": "127.0.0.1",
        "geo": "FR",
        "agent": "Mozilla/5.0",
    }


def run(url: str, seconds: float, clients: int, batch: int, start: int) -> tuple[int, list[float], float]:
    """(events acknowledged, latencies in ms, wall seconds) of `clients` threads posting for `seconds`."""
    latencies: list[float] = []
    acknowledged = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(worker: int) -> None:
        session = requests.Session()
        n = start + worker * 10_000_000
        mine: list[float] = []
        count = 0
        while time.monotonic() < deadline:
            body: Any = event(n) if batch == 1 else [event(n + i) for i in range(batch)]
            began = time.perf_counter()
            reply = session.post(url, json=body, auth=AUTH, timeout=30)
            mine.append((time.perf_counter() - began) * 1000)
            if reply.status_code == 200:
                count += batch
            n += batch
        with lock:
            latencies.extend(mine)
            acknowledged[0] += count

    began = time.monotonic()
    threads = [threading.Thread(target=client, args=(w,)) for w in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return acknowledged[0], latencies, time.monotonic() - began


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch", type=int, default=50, help="events per Version 2 delivery")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as tmp:
        db = Path(tmp) / "hooks.duckdb"
        port = free_port()
        env = {
            **os.environ,
            "MAILJET__WEBHOOKS__USERNAME": AUTH[0],
            "MAILJET__WEBHOOKS__PASSWORD": AUTH[1],
        }
        cmd = [
            sys.executable,
            "-m",
            "pipelines.cli",
            "--db",
            str(db),
            "webhooks",
            "serve",
            "--port",
            str(port),
        ]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        if "listening on" not in proc.stdout.readline():
            raise SystemExit("the receiver did not start")
        url = f"http://127.0.0.1:{port}/events"
        results = []
        for name, batch, start in (
            ("v1, one event per POST", 1, 0),
            (f"v2, {args.batch} per POST", args.batch, 10**9),
        ):
            acked, latencies, wall = run(url, args.seconds, args.clients, batch, start)
            results.append((name, acked, latencies, wall))
        proc.send_signal(signal.SIGINT)
        _, _, usage = os.wait4(proc.pid, 0)
        rss = usage.ru_maxrss / 1024
        with duckdb.connect(str(db), read_only=True) as con:
            loaded, distinct = con.sql(
                "select count(*), count(distinct message_id) from mailjet.events"
            ).fetchall()[0]
    print(f"webhooks serve on loopback: {args.clients} client threads, {args.seconds:g} s per shape")
    total = 0
    for name, acked, latencies, wall in results:
        total += acked
        rate = acked / wall
        print(
            f"  {name}: {acked:,} events acknowledged, {rate:,.0f} events/s (goal >= {GOAL:,}); "
            f"answer latency p50 {statistics.median(latencies):.1f} ms, p99 {pct(latencies, 99):.1f} ms, "
            f"max {max(latencies):.1f} ms ({len(latencies):,} POSTs)"
        )
    print(
        f"  after stopping: {loaded:,} rows in mailjet.events ({distinct:,} distinct) for {total:,} "
        f"acknowledged; receiver peak RSS {rss:.0f} MiB"
    )


if __name__ == "__main__":
    main()
