"""Benchmark of the sandbox itself: seeding time, serving speed, deep offsets, peak memory.

Starts `mailjet-elt sandbox` in a subprocess on a free loopback port (so its memory is measured alone),
then pages through it with one HTTP client. Prints figures; asserts nothing.

    .venv/bin/python bench/sandbox_speed.py --contacts 100000
    .venv/bin/python bench/sandbox_speed.py --contacts 1000000 --memberships 1000000
"""

from __future__ import annotations

import argparse
import statistics
import time

import requests
from common import AUTH, Figures, peak_rss_mib, start_sandbox


def page_rate(
    session: requests.Session, url: str, offsets: list[int], params: dict[str, object]
) -> list[float]:
    """Seconds per page for each offset."""
    times = []
    for offset in offsets:
        t = time.perf_counter()
        response = session.get(url, params={**params, "Limit": 1000, "Offset": offset}, timeout=60)
        response.raise_for_status()
        _ = response.content
        times.append(time.perf_counter() - t)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--memberships", type=int, default=None)
    parser.add_argument("--messages", type=int, default=None)
    args = parser.parse_args()
    figures = Figures()

    proc, base, ready = start_sandbox(args.contacts, args.memberships, args.messages)
    try:
        session = requests.Session()
        session.auth = AUTH
        n = args.contacts
        print(f"contacts={n:,}  ready in {ready:.1f} s (process start + seeding)")
        figures.record(f"sandbox of {n:,} contacts: ready (start, seeding)", ready, "s")
        offsets = list(range(0, n, 1000))
        for label, path, params in (
            ("contact", "/v3/REST/contact", {}),
            ("listrecipient", "/v3/REST/listrecipient", {}),
            ("listrecipient?ContactsList=Newsletter", "/v3/REST/listrecipient", {"ContactsList": 1001}),
        ):
            t = time.perf_counter()
            times = page_rate(session, base + path, offsets, params)
            total = time.perf_counter() - t
            figures.record(f"sandbox {label}: pages/s", len(offsets) / total, "pages/s")
            print(
                f"{label:<40} {len(offsets) / total:8.1f} pages/s  "
                f"median {statistics.median(times) * 1000:6.2f} ms/page  "
                f"first10 {statistics.median(times[:10]) * 1000:6.2f} ms  "
                f"last10 {statistics.median(times[-10:]) * 1000:6.2f} ms"
            )
        peak = peak_rss_mib(proc.pid)
        print(f"peak RSS of the sandbox process: {peak:,.0f} MiB")
        figures.record(f"sandbox of {n:,} contacts: peak RSS", peak, "MiB")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
