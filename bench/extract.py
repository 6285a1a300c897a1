"""Benchmark of `mailjet-elt extract`: rows/s end to end, API calls against the minimum, peak memory;
what each reading of the API (sandbox quirks) costs; what the trailing horizon costs an incremental run.

The sandbox runs in its own process; `mailjet-elt extract` runs in another, into a fresh DuckDB file,
so the extract's peak RSS is its own. `--sizes` runs several sizes in one invocation, each against a
sandbox of its own, and prints each size's peak RSS against the smallest size above the floor's
(`--sizes 5,100000,1000000`: the floor, 100k, 1M; 10,000,000 needs about 17 GiB for the sandbox and an
hour). Goals (issue 27, an idle 2-core machine): the peak at 1M and at 10M at most 1.15x the peak at 100k,
at most 350 MiB at every size, at most 150 MiB for a 5-contact extract (the floor); a rate-limited run
within 1.15x its bound, calls / rate. Prints figures; asserts nothing.

    .venv/bin/python bench/extract.py --contacts 100000
    .venv/bin/python bench/extract.py --sizes 5,100000,1000000   # the floor, and each peak / the 100k one
    .venv/bin/python bench/extract.py --contacts 100000 --latency-ms 50 --rate 20
    .venv/bin/python bench/extract.py --contacts 100000 --sms 5000 --matrix    # calls per listing, per quirk
    .venv/bin/python bench/extract.py --contacts 1000000 --incremental         # the horizon's cost
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile
from pathlib import Path

import duckdb
import requests
from common import AUTH, Figures, measured_cli, start_sandbox

from pipelines.phases import ENV as PHASES_ENV
from sandbox.quirks import READ_QUIRKS
from sources.mailjet.settings import DEFAULT_EVENT_HORIZON_DAYS, DEFAULT_LAG_SECONDS, ENDPOINTS, SMS_PREFIX

# Listings whose page holds one row per listed object even when the table gets several (or none).
LISTED_ROWS = {"contact_properties": "contacts"}
SMS_TOKEN = "sandbox-sms-token"
EVENT_LOGS = ("opens", "clicks", "bounces")
TABLES = (*ENDPOINTS, "sms_messages")
# Goals of issue 27.
PEAK_GOAL, FLOOR_GOAL, GROWTH_GOAL, RATE_GOAL = 350.0, 150.0, 1.15, 1.15  # MiB, MiB, x, x
FLOOR_SIZE = 100  # contacts: a run this small measures the floor (what an extract costs at all)
RATE_GOAL_SIZE = 100_000  # contacts: the rate-limited run's goal is set for this size


def extract_env(base: str, concurrency: int, rate: float, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILJET__")}
    env.update(
        MAILJET__BASE_URL=base,
        MAILJET__API_KEY=AUTH[0],
        MAILJET__API_SECRET=AUTH[1],
        MAILJET__CONCURRENCY=str(concurrency),
        MAILJET__REQUESTS_PER_SECOND=str(rate),
        **{f"MAILJET__{k.upper()}": v for k, v in settings.items()},
    )
    return env


def calls_by_endpoint(base: str) -> dict[str, int]:
    return dict(requests.get(f"{base}/_sandbox/requests", timeout=30).json()["by_endpoint"])


def table_rows(db: Path) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: con.sql(f"select count(*) from mailjet.{t}").fetchall()[0][0] for t in TABLES}


def listing_calls(calls: dict[str, int], table: str) -> int:
    if table == "sms_messages":
        return sum(n for e, n in calls.items() if e.startswith(f"GET {SMS_PREFIX}/sms"))
    return calls.get(f"GET /v3/REST/{ENDPOINTS[table]}", 0)


def send_sms(base: str, count: int) -> None:
    session = requests.Session()
    for i in range(count):
        reply = session.post(
            f"{base}/v4/sms-send",
            json={"From": "MJPilot", "To": f"+336{i:08d}", "Text": f"Code {i}"},
            headers={"Authorization": f"Bearer {SMS_TOKEN}"},
            timeout=30,
        )
        reply.raise_for_status()


def one_extract(base: str, env: dict[str, str], db: Path) -> tuple[float, float, str, dict[str, int]]:
    """(seconds, peak MiB, stdout, calls by endpoint) of one extract into `db`."""
    return measured_extract(base, env, db, None)


def measured_extract(
    base: str, env: dict[str, str], db: Path, resources: str | None
) -> tuple[float, float, str, dict[str, int]]:
    requests.delete(f"{base}/_sandbox/requests", timeout=30)
    extra = ["--resources", resources] if resources else []
    marks = db.with_name(db.name + ".phases")
    marks.unlink(missing_ok=True)
    seconds, peak, out = measured_cli({**env, PHASES_ENV: str(marks)}, db, "extract", *extra)
    if marks.exists():  # each mark resets the peak, which wait4 then misses: the peak is the phases'
        phases = [line.split() for line in marks.read_text().splitlines()]
        shown = ", ".join(f"{name} {float(mib):,.0f} MiB/{float(took):.1f} s" for name, mib, took in phases)
        out += f"peak RSS per phase: {shown}\n"
        peak = max([peak, *(float(mib) for _, mib, _ in phases)])
    return seconds, peak, out, calls_by_endpoint(base)


def plain(args: argparse.Namespace, base: str, env: dict[str, str], figures: Figures, contacts: int) -> float:
    """One extract, its figures printed and recorded; its peak RSS in MiB."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        seconds, peak, out, calls = one_extract(base, env, db)
        rows = table_rows(db)
    total_rows = sum(rows.values())
    total_calls = sum(calls.values())
    print(out.strip().splitlines()[0])
    print(*[line for line in out.splitlines() if line.startswith("peak RSS per phase")], sep="\n")
    print(f"{'table':<30}{'rows':>12}{'calls':>8}{'min':>8}")
    minimum_total = 0
    for table in TABLES:
        listed = rows[LISTED_ROWS[table]] if table in LISTED_ROWS else rows[table]
        minimum = math.ceil(listed / 1000)
        minimum_total += minimum
        print(f"{table:<30}{rows[table]:>12,}{listing_calls(calls, table):>8,}{minimum:>8,}")
    print(
        f"end to end: {total_rows:,} rows in {seconds:.1f} s = {total_rows / seconds:,.0f} rows/s; "
        f"API calls {total_calls:,} (minimum {minimum_total:,}); peak RSS of the extract {peak:,.0f} MiB"
    )
    size = f"{contacts:,} contacts"
    if contacts <= FLOOR_SIZE:
        figures.record(f"extract {size} (the floor): peak RSS", peak, "MiB", FLOOR_GOAL)
    else:
        figures.record(f"extract {size}: rows/s end to end", total_rows / seconds, "rows/s")
        figures.record(f"extract {size}: peak RSS", peak, "MiB", PEAK_GOAL)
    if args.rate:
        bound = total_calls / args.rate
        print(f"rate-limit bound calls/rate = {bound:.1f} s; wall time / bound = {seconds / bound:.2f}")
        figures.record(
            f"extract {size} at {args.rate:g} requests/s, {args.latency_ms:g} ms: wall / (calls / rate)",
            seconds / bound,
            "x",
            RATE_GOAL,
            goal_for=None if contacts == RATE_GOAL_SIZE else f"{RATE_GOAL_SIZE:,} contacts",
        )
    return peak


def growth(peaks: dict[int, float], figures: Figures) -> None:
    """Each size's peak RSS against the smallest size above the floor's (issue 27: 100k)."""
    sizes = sorted(size for size in peaks if size > FLOOR_SIZE)
    if len(sizes) < 2:
        return
    base = sizes[0]
    print(f"peak RSS of the extract by size, against {base:,} contacts ({peaks[base]:,.0f} MiB):")
    for size in sizes[1:]:
        grown = peaks[size] / peaks[base]
        print(f"  {size:>12,} contacts: {peaks[size]:,.0f} MiB = {grown:.2f}x (goal <= {GROWTH_GOAL:g}x)")
        figures.record(
            f"extract peak RSS {size:,} / {base:,} contacts",
            grown,
            "x",
            GROWTH_GOAL,
            goal_for=None if base == 100_000 else "a base of 100,000 contacts",
        )


def matrix(base: str, env: dict[str, str]) -> None:
    """A backfill under no quirk, each quirk alone and all at once: calls per listing, and the calls
    and seconds each reading adds (the cost of the extract's defence against it)."""
    readings = ["none", *READ_QUIRKS, "all"]  # the write quirks change no read
    results: dict[str, tuple[float, dict[str, int], dict[str, int]]] = {}
    for reading in readings:
        spec = "" if reading == "none" else reading
        requests.put(f"{base}/_sandbox/quirks", json={"spec": spec}, timeout=30).raise_for_status()
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "bench.duckdb"
            seconds, _, _, calls = one_extract(base, env, db)
            results[reading] = (seconds, calls, table_rows(db))
        print(f"  {reading}: {sum(calls.values()):,} calls, {seconds:.1f} s", flush=True)
    requests.put(f"{base}/_sandbox/quirks", json={"spec": ""}, timeout=30).raise_for_status()
    base_seconds, base_calls, base_rows = results["none"]
    tables = list(TABLES)
    print("\nbackfill calls per listing (rows under no quirk; a listing's minimum is ceil(rows/1000)+1)")
    names = "".join(f"{t[:11]:>12}" for t in tables)
    header = f"{'reading':<26}{names}{'total':>9}{'extra':>8}{'s':>7}"
    print(header)
    print(f"{'rows':<26}" + "".join(f"{base_rows[t]:>12,}" for t in tables))
    for reading, (seconds, calls, rows) in results.items():
        total = sum(calls.values())
        line = "".join(f"{listing_calls(calls, t):>12,}" for t in tables)
        extra = total - sum(base_calls.values())
        print(f"{reading:<26}{line}{total:>9,}{extra:>+8,}{seconds - base_seconds:>+7.1f}")
        differing = [t for t in tables if rows[t] != base_rows[t]]
        if differing:
            print(f"{'':<26}rows differ from no quirk: {', '.join(differing)}")


def incremental(base: str, env: dict[str, str], repeats: int) -> None:
    """A backfill, then incremental runs with the horizon off and at its default: the horizon's cost,
    in a whole run and in runs of only the three event logs it applies to (medians, alternated)."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        seconds, _, _, calls = one_extract(base, env, db)
        print(f"backfill: {sum(calls.values()):,} calls, {seconds:.1f} s")
        within = messages_within(db, DEFAULT_EVENT_HORIZON_DAYS * 86400 + DEFAULT_LAG_SECONDS)
        pages = math.ceil(within / 1000)
        print(
            f"messages within the lag and the {DEFAULT_EVENT_HORIZON_DAYS:g}-day horizon: {within:,} "
            f"(read again by each incremental run: ceil({within:,} / 1000) = {pages} pages)"
        )
        for resources, label in (
            (None, "whole incremental run"),
            (EVENT_LOGS, "opens, clicks and bounces alone"),
        ):
            timings: dict[float, list[float]] = {0.0: [], DEFAULT_EVENT_HORIZON_DAYS: []}
            counted: dict[float, tuple[int, int, int, float]] = {}
            for _ in range(repeats):  # alternated, so that a drift of the machine weighs on both alike
                for days, runs in timings.items():
                    run_env = {**env, "MAILJET__EVENT_HORIZON_DAYS": str(days)}
                    names = ",".join(resources) if resources else None
                    seconds, peak, _, calls = measured_extract(base, run_env, db, names)
                    runs.append(seconds)
                    logs = sum(listing_calls(calls, t) for t in EVENT_LOGS)
                    sent = listing_calls(calls, "messages")
                    worst = max(peak, counted.get(days, (0, 0, 0, 0.0))[3])
                    counted[days] = (sum(calls.values()), logs, sent, worst)
            for days, runs in timings.items():
                total, logs, sent, peak = counted[days]
                shown = ", ".join(f"{r:.1f}" for r in runs)
                print(
                    f"{label}, horizon {days:g} days: {total:,} calls ({logs:,} on the event logs, "
                    f"{sent:,} on messages), "
                    f"median {statistics.median(runs):.2f} s of {len(runs)} runs ({shown}), "
                    f"peak {peak:,.0f} MiB"
                )


def messages_within(db: Path, seconds: float) -> int:
    """Messages sent within `seconds` of the newest one: those an incremental run reads again."""
    with duckdb.connect(str(db), read_only=True) as con:
        sql = (
            "select count(*) from mailjet.messages where epoch(arrived_at) >= "
            f"(select epoch(max(arrived_at)) from mailjet.messages) - {seconds}"
        )
        return int(con.sql(sql).fetchall()[0][0])


def sizes_of(text: str) -> list[int]:
    """`--sizes 5,100000,1000000` (underscores allowed): contacts per run, in the order given."""
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"sizes are whole numbers of contacts, comma-separated: {text!r}"
        ) from exc
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"sizes are at least 1 contact: {text!r}")
    return sizes


def run_size(args: argparse.Namespace, faults: str, contacts: int, figures: Figures) -> float | None:
    """One sandbox of `contacts` and what the mode asks of it; the plain extract's peak RSS (None for the
    other modes)."""
    proc, base, ready = start_sandbox(contacts, args.memberships, args.messages, faults, quirks=args.quirks)
    try:
        print(
            f"sandbox: {contacts:,} contacts, faults: {faults or 'none'}, "
            f"quirks: {args.quirks or 'none'}; ready in {ready:.1f} s",
            flush=True,
        )
        settings = {"sms_token": SMS_TOKEN} if args.sms else {}
        if args.sms:
            send_sms(base, args.sms)
        env = extract_env(base, args.concurrency, args.rate, **settings)
        if args.matrix:
            matrix(base, env)
        elif args.incremental:
            incremental(base, env, args.repeats)
        else:
            return plain(args, base, env, figures, contacts)
        return None
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--contacts", type=int, default=None, help="contacts in the sandbox (default 100,000)")
    size.add_argument(
        "--sizes",
        type=sizes_of,
        default=None,
        help="several runs, e.g. 5,100000,1000000: their peaks compared",
    )
    parser.add_argument("--memberships", type=int, default=None, help="default: one per contact")
    parser.add_argument("--messages", type=int, default=None, help="default: one per contact")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added by the sandbox to every call")
    parser.add_argument("--rate", type=float, default=0.0, help="requests/s, client-side and sandbox-side")
    parser.add_argument("--sms", type=int, default=0, help="SMS to send first (then SMS are extracted)")
    parser.add_argument("--quirks", default="", help="sandbox quirks for the plain run (e.g. all)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--matrix", action="store_true", help="a backfill per quirk: calls per listing")
    mode.add_argument("--incremental", action="store_true", help="incremental runs: the horizon's cost")
    parser.add_argument("--repeats", type=int, default=5, help="--incremental: runs of each kind")
    args = parser.parse_args()
    sizes = args.sizes or [args.contacts or 100_000]
    if len(sizes) > 1 and (args.matrix or args.incremental):
        parser.error("--matrix and --incremental take one size (--contacts)")

    faults = ",".join(
        spec
        for spec in (
            f"latency_ms={args.latency_ms}" if args.latency_ms else "",
            f"rate_limit={args.rate}" if args.rate else "",
        )
        if spec
    )
    figures = Figures()
    peaks: dict[int, float] = {}
    for contacts in sizes:
        peak = run_size(args, faults, contacts, figures)
        if peak is not None:
            peaks[contacts] = peak
    growth(peaks, figures)


if __name__ == "__main__":
    main()
