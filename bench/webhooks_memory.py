"""Peak memory of `mailjet-elt webhooks serve` for one large delivery.

The receiver runs as the CLI runs it, in its own process, into a fresh DuckDB file. One delivery is
posted to each fresh receiver (so that one peak does not hide another): `{}` events, as many as fit in
the body limit (the degenerate case: the most events per byte); 20,000 of them (the default
`max_events`); `--events N` real-shaped events. Once `/health` says that what it received is loaded, the
receiver is stopped, and its peak RSS (the kernel's `ru_maxrss`, the whole process: server, spool and
loader) is printed beside the status it answered and the rows loaded. Prints figures; asserts nothing.

    .venv/bin/python bench/webhooks_memory.py
    .venv/bin/python bench/webhooks_memory.py --events 10000
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from urllib.request import urlopen

import duckdb
from common import Figures, event, free_port, start_receiver

AUTH = ("bench", "bench-secret")
MAX_BODY_BYTES = 4_194_304  # the receiver's default body limit


def real_event(n: int) -> str:
    return json.dumps(event(n), separators=(",", ":"))


def measure(body: bytes) -> tuple[int, str, int, float]:
    """(status, answer, rows in mailjet.events, peak RSS in MiB) of a fresh receiver given `body`."""
    with tempfile.TemporaryDirectory(prefix="bench-webhooks-memory-") as tmp:
        db = Path(tmp) / "hooks.duckdb"
        port = free_port()
        env = {
            **os.environ,
            "MAILJET__WEBHOOKS__USERNAME": AUTH[0],
            "MAILJET__WEBHOOKS__PASSWORD": AUTH[1],
            "MAILJET__WEBHOOKS__FLUSH_SECONDS": "0.5",
        }
        log = Path(tmp) / "receiver.log"
        proc = start_receiver(db, port, env, log)
        headers = {
            "Authorization": "Basic " + base64.b64encode(":".join(AUTH).encode()).decode(),
            "Content-Type": "application/json",
        }
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        try:
            connection.request("POST", "/events", body, headers)
            reply = connection.getresponse()
            status, answer = reply.status, reply.read().decode().strip()
        except (OSError, http.client.HTTPException) as exc:
            status, answer = 0, f"no answer ({exc!r})"
        finally:
            connection.close()
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:  # until what it received is loaded
            health = json.loads(urlopen(f"http://127.0.0.1:{port}/health", timeout=30).read())
            if health["spooled"] == 0 and health["loaded"] >= health["received"]:
                break
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        _, code, usage = os.wait4(proc.pid, 0)
        if code:
            print(f"  the receiver exited {code}: {log.read_text()[-2000:]}", file=sys.stderr)
        rss = usage.ru_maxrss / 1024
        loaded = 0
        if db.exists():
            with duckdb.connect(str(db), read_only=True) as con:
                found = con.sql(
                    "select count(*) from information_schema.tables "
                    "where table_schema = 'mailjet_api' and table_name = 'events'"
                ).fetchall()
                if found[0][0]:
                    loaded = int(con.sql("select count(*) from mailjet_api.events").fetchall()[0][0])
        return status, answer[:120], loaded, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=16_000, help="real-shaped events (16,000 fit in 4 MiB)")
    args = parser.parse_args()
    figures = Figures()
    empties = (MAX_BODY_BYTES - 1) // 3
    shapes = [
        (
            f"{empties:,} `{{}}` events in one delivery ({MAX_BODY_BYTES:,}-byte limit)",
            b"[" + b",".join([b"{}"] * empties) + b"]",
        ),
        ("20,000 `{}` events in one delivery", b"[" + b",".join([b"{}"] * 20_000) + b"]"),
        (
            f"{args.events:,} real-shaped events in one delivery",
            ("[" + ",".join(real_event(n) for n in range(args.events)) + "]").encode(),
        ),
    ]
    labels = [f"{empties:,} {{}} in 4 MiB", "20,000 {}", f"{args.events:,} real-shaped events"]
    print(f"webhooks serve, one delivery per fresh receiver, {os.cpu_count()} CPUs")
    for (name, body), short in zip(shapes, labels, strict=True):
        status, answer, loaded, rss = measure(body)
        figures.record(f"webhooks one delivery, {short}: receiver peak RSS", rss, "MiB")
        print(
            f"  {name}, {len(body):,} bytes: answered {status} ({answer!r}); {loaded:,} rows loaded; "
            f"receiver peak RSS {rss:.0f} MiB"
        )


if __name__ == "__main__":
    main()
