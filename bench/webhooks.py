"""Benchmark of `mailjet-elt webhooks serve`: sustained events/s on loopback and answer latency.

The receiver runs as the CLI runs it, in its own process, into a fresh DuckDB file. Client processes
(`--clients`, each on one keep-alive connection, with the standard library's lean HTTP client, so that
what is measured is the receiver rather than the clients' own interpreter) post for `--seconds` each:
Version 1 (one event per POST, the harshest case) and Version 2 (arrays of `--batch` events). Every answer
is timed; afterwards the receiver is stopped (it loads what it holds) and the events in `mailjet.events`
are counted against those acknowledged. The receiver's CPU time per delivery is printed too, and what its
console said (kept in a file, JSON lines): its batch lines and their lag. Prints figures; asserts nothing.

    .venv/bin/python bench/webhooks.py
    .venv/bin/python bench/webhooks.py --seconds 20 --clients 8 --batch 100
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import multiprocessing
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
from common import Figures, console_lines, event, free_port, start_receiver

AUTH = ("bench", "bench-secret")
GOAL = 2000  # events/s


def client(port: int, seconds: float, batch: int, first: int, results: Any) -> None:
    """One sender: POSTs on one keep-alive connection until `seconds` have passed; puts (events
    acknowledged, latencies in ms, its own CPU seconds) on `results`."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {
        "Authorization": "Basic " + base64.b64encode(":".join(AUTH).encode()).decode(),
        "Content-Type": "application/json",
    }
    n, count, latencies = first, 0, []
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            body: Any = event(n) if batch == 1 else [event(n + i) for i in range(batch)]
            data = json.dumps(body).encode()
            began = time.perf_counter()
            connection.request("POST", "/events", data, headers)
            reply = connection.getresponse()
            reply.read()
            latencies.append((time.perf_counter() - began) * 1000)
            if reply.status == 200:
                count += batch
            n += batch
    except (OSError, http.client.HTTPException) as exc:
        print(f"a client stopped early: {exc!r}", file=sys.stderr)
    finally:
        results.put((count, latencies, time.process_time()))


def run(
    port: int, seconds: float, clients: int, batch: int, start: int
) -> tuple[int, list[float], float, float]:
    """(events acknowledged, latencies in ms, wall seconds, the clients' CPU seconds) of `clients` processes
    posting for `seconds`."""
    results: Any = multiprocessing.Queue()
    senders = [
        multiprocessing.Process(target=client, args=(port, seconds, batch, start + w * 10_000_000, results))
        for w in range(clients)
    ]
    began = time.monotonic()
    for sender in senders:
        sender.start()
    acknowledged, latencies, cpu = 0, [], 0.0
    for _ in senders:
        count, mine, used = results.get()
        acknowledged += count
        latencies += mine
        cpu += used
    for sender in senders:
        sender.join()
    return acknowledged, latencies, time.monotonic() - began, cpu


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch", type=int, default=50, help="events per Version 2 delivery")
    args = parser.parse_args()
    figures = Figures()
    with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as tmp:
        db = Path(tmp) / "hooks.duckdb"
        port = free_port()
        env = {
            **os.environ,
            "MAILJET__WEBHOOKS__USERNAME": AUTH[0],
            "MAILJET__WEBHOOKS__PASSWORD": AUTH[1],
        }
        log = Path(tmp) / "receiver.log"
        proc = start_receiver(db, port, env, log)
        results = []
        for name, batch, start in (
            ("v1, one event per POST", 1, 0),
            (f"v2, {args.batch} per POST", args.batch, 10**9),
        ):
            used = cpu_seconds(proc.pid)
            acked, latencies, wall, clients_cpu = run(port, args.seconds, args.clients, batch, start)
            results.append((name, acked, latencies, wall, cpu_seconds(proc.pid) - used, clients_cpu))
        proc.send_signal(signal.SIGINT)
        _, _, usage = os.wait4(proc.pid, 0)
        rss = usage.ru_maxrss / 1024
        lines = console_lines(log)
        batches = [line for line in lines if "lag_seconds" in line]
        with duckdb.connect(str(db), read_only=True) as con:
            loaded, distinct = con.sql(
                "select count(*), count(distinct message_id) from mailjet.events"
            ).fetchall()[0]
    print(
        f"webhooks serve on loopback: {args.clients} client processes, {args.seconds:g} s per shape, "
        f"{os.cpu_count()} CPUs shared by the receiver and the clients"
    )
    total = 0
    for name, acked, latencies, wall, used, clients_cpu in results:
        total += acked
        rate = acked / wall
        figures.record(f"webhooks {name}: events acknowledged/s", rate, "events/s", GOAL, ">=")
        figures.record(f"webhooks {name}: answer latency p99", pct(latencies, 99), "ms")
        figures.record(f"webhooks {name}: receiver CPU per POST", used / len(latencies) * 1e6, "us")
        figures.record(f"webhooks {name}: clients' CPU per POST", clients_cpu / len(latencies) * 1e6, "us")
        print(
            f"  {name}: {acked:,} events acknowledged, {rate:,.0f} events/s (goal >= {GOAL:,}); "
            f"answer latency p50 {statistics.median(latencies):.1f} ms, p99 {pct(latencies, 99):.1f} ms, "
            f"max {max(latencies):.1f} ms ({len(latencies):,} POSTs)"
        )
        # The clients share the machine's CPUs with the receiver: their CPU is told apart, and what the
        # receiver's own CPU per POST allows on one core.
        print(
            f"    CPU: receiver {used:.1f} s = {used / len(latencies) * 1e6:,.0f} us per POST (loading "
            f"included; one core would take {len(latencies) / used if used else float('nan'):,.0f} POSTs/s); "
            f"clients {clients_cpu:.1f} s = {clients_cpu / len(latencies) * 1e6:,.0f} us per POST"
        )
    print(
        f"  after stopping: {loaded:,} rows in mailjet.events ({distinct:,} distinct) for {total:,} "
        f"acknowledged; receiver peak RSS {rss:.0f} MiB"
    )
    if total:  # every acknowledged event stored (once acknowledged, it was on disk)
        figures.record("webhooks: distinct events stored / acknowledged", distinct / total, "x", 1.0, ">=")
    figures.record("webhooks: receiver peak RSS", rss, "MiB")
    lags = [line["lag_seconds"] for line in batches if line["lag_seconds"] is not None] or [float("nan")]
    print(
        f"  its console: {len(lines)} lines, {len(batches)} of them batch lines "
        f"({sum(line['events'] for line in batches):,} events; lag median {statistics.median(lags):.1f} s, "
        f"max {max(lags):.1f} s)"
    )


if __name__ == "__main__":
    main()
