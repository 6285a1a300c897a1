"""`mailjet-elt webhooks serve`: Mailjet's Event API into `mailjet_api.events`, durably.

A delivery (one event object, Version 1, or an array of them, Version 2) is appended to a spool file on
disk and fsynced before the receiver answers 200: an event Mailjet was told we have is on disk. A loader
thread takes the spool in micro-batches (every `flush_seconds`, or sooner past `flush_events`): it seals
the current spool file, loads the sealed files through dlt under the database's writer lock (held only
for that load, never while waiting for events), merging on each event's key so that Mailjet's retried
deliveries and a file loaded twice after a crash add nothing, then deletes them. Killed at any moment,
the receiver loses nothing it acknowledged: a restart loads what the spool still holds.

Malformed deliveries are answered 400 (Mailjet retries them, then gives up) and recorded in
`mailjet_api.webhook_rejections`, as are array items that are not events; bodies over
`max_body_bytes` get 413; requests without the `[mailjet.webhooks]` credentials get 401."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pyarrow as pa
from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.exceptions import (
    ConfigFieldMissingException,
    ConfigValueCannotBeCoercedException,
)
from dlt.common.configuration.specs import BaseConfiguration
from dlt.common.pipeline import get_dlt_pipelines_dir
from dlt.common.typing import TSecretStrValue
from dlt.pipeline.exceptions import PipelineStepFailed

from pipelines.errors import EXIT_FAILURE, EXIT_USAGE, CommandError
from pipelines.interrupts import InterruptHandler
from pipelines.layers import API_DATASET
from pipelines.logs import console
from pipelines.settings import DEFAULT_LOCK_WAIT_SECONDS
from pipelines.warehouse import WarehouseBusy, pipelines_dir, writing
from sources.mailjet.schema import ARROW_TYPES, EVENTS, WEBHOOK_REJECTIONS, Column, Table

SECTION = ("mailjet", "webhooks")
CURRENT = "current.jsonl"
BODY_KEPT = 65_536  # characters of a rejected body kept in webhook_rejections
NUMBERED = re.compile(r"(?:sealed|unloadable)-(\d+)\.jsonl")
BATCH_EVENTS = 25_000  # a load takes whole spool files until it holds this many events (or the spool ends)


@configspec
class WebhooksConfiguration(BaseConfiguration):
    """`[mailjet.webhooks]`: the receiver's credentials (the ones embedded in the callback URL registered
    with Mailjet, `https://user:password@host/events`) and its limits."""

    username: TSecretStrValue = None  # type: ignore[assignment]  # required: dlt resolves it
    password: TSecretStrValue = None  # type: ignore[assignment]  # required: dlt resolves it
    max_body_bytes: int = 4_194_304
    """Bodies larger than this are refused (413)."""
    flush_seconds: float = 2.0
    """How often received events are loaded into the database."""
    flush_events: int = 20_000
    """Load sooner once this many events wait."""

    def check(self) -> None:
        for name in ("max_body_bytes", "flush_events"):
            if getattr(self, name) < 1:
                raise CommandError(
                    f"[mailjet.webhooks] {name}={getattr(self, name)}: must be at least 1", EXIT_USAGE
                )
        if not 0 < self.flush_seconds <= 3600:
            raise CommandError(
                f"[mailjet.webhooks] flush_seconds={self.flush_seconds}: give a number of seconds, above 0 "
                "and at most 3600",
                EXIT_USAGE,
            )


def resolve_webhooks_config() -> WebhooksConfiguration:
    """`[mailjet.webhooks]` resolved and checked; CommandError (exit 2) naming what is missing or wrong."""
    try:
        config = resolve_configuration(WebhooksConfiguration(), sections=SECTION)
    except ConfigFieldMissingException as exc:
        hints = " and ".join(f"MAILJET__WEBHOOKS__{name.upper()}" for name in exc.fields)
        raise CommandError(
            f"missing webhook setting(s): {', '.join(exc.fields)}. The receiver only accepts deliveries "
            f"that carry these credentials: set {hints}, or put them under [mailjet.webhooks] in "
            ".dlt/secrets.toml, and register the callback URL with them (https://USER:PASSWORD@host/events)",
            EXIT_USAGE,
        ) from None
    except ConfigValueCannotBeCoercedException as exc:
        raise CommandError(
            f"[mailjet.webhooks] {exc.field_name}: cannot use {exc.field_value!r}", EXIT_USAGE
        ) from None
    config.check()
    return config


def event_key(event: dict[str, Any]) -> str:
    """One key per event: its type, time, message, recipient, link (clicks), address and agent (opens,
    clicks). A retried delivery gives the same key; two events of one message, type and second differ by
    link, address or agent (a scanner's open and the person's), or are the same event."""
    parts = [
        event.get("event"),
        event.get("time"),
        event.get("MessageID"),
        str(event.get("email") or "").strip().lower(),
        event.get("url"),
        event.get("ip"),
        event.get("agent"),
    ]
    text = "\x1f".join("" if v is None else str(v) for v in parts)  # 1 and "1" are one message
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _value(column: Column, value: Any) -> Any:
    """`value` in the column's type, or None when it is not one (the event's `raw` keeps it as sent)."""
    if value is None or value == "":
        return None
    kind = column.kind
    try:
        if kind in ("id", "int"):
            if isinstance(value, bool) or not isinstance(value, int | str):
                return None
            number = int(str(value).strip()) if isinstance(value, str) else value
            if isinstance(value, str) and "_" in value:
                return None  # int() reads "1_000"; Mailjet never writes it
            return number if -(2**63) <= number < 2**63 else None
        if kind == "float":
            return float(value)
        if kind == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, int | str) and str(value).lower() in ("1", "true", "0", "false"):
                return str(value).lower() in ("1", "true")
            return None
        if kind == "unix":
            return datetime.fromtimestamp(int(value), UTC) if not isinstance(value, bool) else None
        if kind == "ts":
            return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return value if isinstance(value, str) else orjson.dumps(value).decode()
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def to_arrow(table: Table, rows: list[dict[str, Any]], loaded_at: datetime) -> pa.Table:
    """Rows keyed by Mailjet's field names (and `_key`, `_raw`, ...) as an Arrow table of `table`."""
    data = {
        c.name: pa.array([_value(c, r.get(c.field)) for r in rows], ARROW_TYPES[c.kind])
        for c in table.columns
    }
    data[table.stamp] = pa.array([loaded_at] * len(rows), pa.timestamp("us", tz="UTC"))
    return pa.table(data, schema=table.arrow_schema())


@dataclass
class Spool:
    """Received deliveries on disk: appended to `current.jsonl` and fsynced (in groups: one fsync covers
    every write made before it) before they are acknowledged; sealed into numbered files for loading."""

    folder: Path
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _sync_lock: threading.Lock = field(default_factory=threading.Lock)
    _file: Any = None
    _written: int = 0
    _synced: int = 0
    pending_events: int = 0  # in the current file
    _sealed: dict[str, int] = field(default_factory=dict)  # events per file this process sealed, not loaded
    # A failed fsync: what was written may not be on disk, and Linux reports such an error only once, so
    # no later fsync can vouch for it. Nothing is acknowledged any more; a restart loads what is there.
    failed: OSError | None = None

    def open(self) -> None:
        """Create the folder and take it for this receiver (a second one on it stops, naming the first);
        a `current.jsonl` left by a stopped receiver is sealed for loading first."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self._claim()
        if (self.folder / CURRENT).exists():
            self.seal()
        self._file = self._start()

    def _claim(self) -> None:
        import fcntl

        handle = (self.folder / "receiver.lock").open("a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise CommandError(
                f"another receiver ({holder}) is using the spool {self.folder}: one receiver per database",
                EXIT_FAILURE,
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        self._claimed = handle  # held (and locked) for the receiver's life

    def _start(self) -> Any:
        handle = (self.folder / CURRENT).open("ab")
        _fsync_dir(self.folder)  # the new file's entry is on disk before anything is acknowledged in it
        return handle

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.flush()
                os.fsync(self._file.fileno())
                self._file.close()
                self._file = None
        claimed = getattr(self, "_claimed", None)
        if claimed is not None:
            claimed.close()

    def append(self, record: dict[str, Any], events: int) -> None:
        """Write one record and return once it is on disk; raises OSError when that cannot be vouched for."""
        line = orjson.dumps(record) + b"\n"
        with self._lock:
            self._check()
            if self._file is None:  # a seal could not start the next file: try again
                self._file = self._start()
            self._file.write(line)
            self._written += 1
            mine = self._written
            self.pending_events += events
        with self._sync_lock:
            self._check()
            if self._synced >= mine:
                return  # another request's fsync covered this write
            with self._lock:
                self._file.flush()
                upto = self._written
                fd = os.dup(self._file.fileno())  # a seal may close the file meanwhile; this stays valid
            try:
                os.fsync(fd)
            except OSError as exc:
                self.failed = exc
                raise
            finally:
                os.close(fd)
            self._synced = upto

    def _check(self) -> None:
        if self.failed is not None:
            raise OSError(
                f"the spool could not be synced to disk earlier ({self.failed}); restart the receiver"
            )

    def seal(self, min_events: int = 0) -> Path | None:
        """Close the current file under the next number; a new current file is started. None when it
        held nothing (or fewer than `min_events` events: another request sealed it first)."""
        with self._lock:
            current = self.folder / CURRENT
            serving = self._file is not None
            if serving:
                if self._file.tell() == 0 or self.pending_events < min_events:
                    return None
                try:
                    self._file.flush()
                    os.fsync(self._file.fileno())
                except OSError as exc:
                    self.failed = exc
                    raise
                self._file.close()
                self._file = None
            elif not current.exists() or current.stat().st_size == 0:
                return None
            try:
                # Numbers never reused while a file of it is kept (set aside as unloadable, too).
                taken = [int(m[1]) for p in self.folder.glob("*.jsonl") if (m := NUMBERED.fullmatch(p.name))]
                number = max([*taken, 0]) + 1
                target = self.folder / f"sealed-{number:012d}.jsonl"
                os.replace(current, target)
                self._sealed[target.name] = self.pending_events
                self.pending_events = 0
                _fsync_dir(self.folder)
            finally:
                if serving:  # whatever happened, appends go on (into the old file if it was not moved;
                    self._file = self._start()  # if this fails, the next append starts it)
            return target

    def gone(self, paths: list[Path]) -> None:
        """These sealed files are loaded or set aside: their events no longer wait."""
        with self._lock:
            for path in paths:
                self._sealed.pop(path.name, None)

    def waiting(self) -> int:
        """Events received by this process and not loaded yet."""
        with self._lock:
            return self.pending_events + sum(self._sealed.values())

    def sealed(self) -> list[Path]:
        """The sealed files, oldest first."""
        return sorted(p for p in self.folder.glob("sealed-*.jsonl") if NUMBERED.fullmatch(p.name))


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_spool(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(event rows, rejection rows) of a sealed file. A last line cut short (a receiver killed while
    writing it, before it answered) is passed over: Mailjet was not told it arrived."""
    events: list[dict[str, Any]] = []
    rejections: list[dict[str, Any]] = []
    lines = path.read_bytes().splitlines()
    for number, line in enumerate(lines, start=1):
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            if number < len(lines):  # not the cut-short last line: keep it, and say so
                text = line.decode("utf-8", "replace")
                rejections.append(
                    {
                        "_id": hashlib.sha256(f"{path.name}|{number}".encode()).hexdigest()[:32],
                        "_received_at": datetime.now(UTC).isoformat(),
                        "reason": "spool_line_unreadable",
                        "detail": f"{path.name} line {number}",
                        "body": text[:BODY_KEPT],
                        "remote": "",
                    }
                )
            continue
        if record.get("kind") == "events":
            for event in record["events"]:
                events.append(
                    {
                        **event,
                        "_key": event_key(event),
                        "_received_at": record["at"],
                        "_raw": orjson.dumps(event).decode(),
                    }
                )
        elif record.get("kind") == "rejection":
            rejections.append(record)
    return events, rejections


@dataclass
class LoaderStats:
    loaded: int = 0  # events loaded (before deduplication)
    batches: int = 0
    last_error: str | None = None


class Loader:
    """Loads the sealed spool files in micro-batches, under the writer lock, then deletes them."""

    def __init__(
        self,
        spool: Spool,
        db: str,
        destination: str | None,
        config: WebhooksConfiguration,
        lock_wait: float,
    ) -> None:
        self.spool = spool
        self.db = db
        self.destination = destination
        self.config = config
        self.lock_wait = lock_wait
        self.stats = LoaderStats()
        # The views are (re)published by this process's first load, and whenever the events table is new:
        # a receiver killed between a load and its publish left the table without its view.
        self._published = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhooks-loader", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def nudge(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Stop, after a last load of what was received."""
        self._stop.set()
        self._wake.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.config.flush_seconds)
            self._wake.clear()
            stopping = self._stop.is_set()
            try:
                self.flush()
                self.stats.last_error = None
            except Exception as exc:  # noqa: BLE001 (the receiver goes on; the spool keeps the events)
                self.stats.last_error = str(exc)
                console().error(f"mailjet-elt webhooks: loading failed ({exc}); the events stay spooled")
            if stopping:
                return

    def flush(self) -> int:
        """Seal the current spool file and load every sealed file, a group at a time, deleting each group
        once it is loaded; the events loaded. When a group fails, its files are tried one by one, and a
        file that fails alone is set aside (kept, and recorded) so that it cannot hold back the rest."""
        self.spool.seal()
        loaded = 0
        files = self.spool.sealed()
        one_by_one = False
        while files:
            group: list[Path] = []
            events: list[dict[str, Any]] = []
            rejections: list[dict[str, Any]] = []
            while files and (not group or (not one_by_one and len(events) < BATCH_EVENTS)):
                path = files.pop(0)
                more_events, more_rejections = read_spool(path)
                events += more_events
                rejections += more_rejections
                group.append(path)
            try:
                loaded += self._load(events, rejections)
            except WarehouseBusy as exc:
                console().warning(f"mailjet-elt webhooks: {exc}; the events stay spooled and load next time")
                return loaded
            except Exception as exc:  # noqa: BLE001 (one bad file must not hold back the others)
                if len(group) > 1:
                    files, one_by_one = group + files, True
                elif not self._set_aside(group[0], exc):
                    return loaded  # not even that worked: the next flush tries again
                else:
                    self.spool.gone(group)
                continue
            for path in group:
                path.unlink()
            _fsync_dir(self.spool.folder)
            self.spool.gone(group)
        return loaded

    def _set_aside(self, path: Path, exc: Exception) -> bool:
        """A sealed file that fails to load on its own: renamed `unloadable-*.jsonl` (kept, never lost),
        recorded in webhook_rejections, so that the files after it load. False when even that failed."""
        target = path.with_name(path.name.replace("sealed-", "unloadable-"))
        try:
            os.replace(path, target)
            _fsync_dir(self.spool.folder)
            at = datetime.now(UTC).isoformat()
            record = {
                "_id": hashlib.sha256(f"{target.name}|{at}".encode()).hexdigest()[:32],
                "_received_at": at,
                "reason": "unloadable_spool_file",
                "detail": f"{target} could not be loaded ({str(exc)[:500]}); it is kept as it is",
                "body": "",
                "remote": "",
            }
            self._load([], [record])
        except Exception as again:  # noqa: BLE001
            console().error(f"mailjet-elt webhooks: {path} cannot be loaded or set aside ({again})")
            return False
        console().error(
            f"mailjet-elt webhooks: {path.name} could not be loaded ({exc}); kept as {target.name}"
        )
        return True

    def _load(self, events: list[dict[str, Any]], rejections: list[dict[str, Any]]) -> int:
        now = datetime.now(UTC)
        data = []
        if events:
            data.append(EVENTS.resource(_once(to_arrow(EVENTS, events, now))))
        if rejections:
            data.append(WEBHOOK_REJECTIONS.resource(_once(to_arrow(WEBHOOK_REJECTIONS, rejections, now))))
        if not data:
            return 0
        stop = InterruptHandler("webhooks serve")
        with writing(
            self.db,
            self.destination,
            "webhooks serve",
            API_DATASET,
            self.lock_wait,
            interrupts=stop,
            loads=False,
        ) as warehouse:
            with warehouse.pipeline.sql_client() as client:
                had = client.has_dataset() and bool(
                    client.execute_sql(
                        "select 1 from information_schema.tables where table_schema = %s and table_name = %s",
                        API_DATASET,
                        EVENTS.name,
                    )
                )
            try:
                warehouse.load("webhooks serve", data, stop)
            except PipelineStepFailed as exc:
                raise RuntimeError(str(exc.exception)) from None
            warehouse.close_journal()
            if not had or not self._published:
                warehouse.publish()  # the views read the new tables from now on
                self._published = True
        self.stats.loaded += len(events)
        self.stats.batches += 1
        return len(events)


def _once(table: pa.Table) -> Callable[[], Iterator[pa.Table]]:
    def gen() -> Iterator[pa.Table]:
        yield table

    return gen


class Handler(BaseHTTPRequestHandler):
    """POST /events; GET /health."""

    protocol_version = "HTTP/1.1"
    timeout = 30  # seconds a connection may stay silent (a stalled client frees its thread)
    disable_nagle_algorithm = True  # the answer's headers and body leave at once, not 40 ms apart
    server: Receiver
    server_version = "mailjet-elt-webhooks"
    sys_version = ""
    AUTH_REALM: ClassVar[str] = 'Basic realm="mailjet-elt webhooks"'

    def log_message(self, format: str, *args: Any) -> None:
        pass  # every delivery is in the spool and the table; no access log with addresses on stderr

    def _reply(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
        body = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.split("?")[0] == "/health":
            self._reply(200, json.dumps(self.server.health()))
        else:
            self._reply(404, "not found: Mailjet posts events to /events")

    def _refuse(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
        """Answer without reading the body, and close: what is left of it is never read as a request."""
        self.close_connection = True
        self._reply(status, text, {"Connection": "close", **(headers or {})})

    def do_POST(self) -> None:
        receiver = self.server
        if self.path.split("?")[0].rstrip("/") != "/events":
            self._refuse(404, "not found: Mailjet posts events to /events")
            return
        if not receiver.authorized(self.headers.get("Authorization")):
            self._refuse(401, "unauthorized", {"WWW-Authenticate": self.AUTH_REALM})
            return
        if self.headers.get("Transfer-Encoding") is not None:
            self._refuse(411, "send the body with a Content-Length (no Transfer-Encoding)")
            return
        length_header = (self.headers.get("Content-Length") or "").strip()
        length = int(length_header) if length_header.isdigit() else -1
        if length < 0:
            self._refuse(411, "a Content-Length is required")
            return
        if length > receiver.config.max_body_bytes:
            receiver.reject(
                "too_large",
                f"{length} bytes, the limit is {receiver.config.max_body_bytes}",
                "",
                self.client_address[0],
            )
            self._refuse(413, f"body over {receiver.config.max_body_bytes} bytes")
            return
        body = self.rfile.read(length)
        status, text = receiver.receive(body, self.client_address[0])
        self._reply(status, text)


class Receiver(ThreadingHTTPServer):
    """The HTTP server, its spool and its loader."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], config: WebhooksConfiguration, spool: Spool, loader: Loader
    ) -> None:
        super().__init__(address, Handler)
        self.config = config
        self.spool = spool
        self.loader = loader
        token = f"{config.username}:{config.password}".encode()
        self._token = base64.b64encode(token)
        self.received = 0
        self.rejected = 0
        self._count_lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = str(self.server_address[0]), int(self.server_address[1])
        return f"http://{host}:{port}/events"

    def authorized(self, header: str | None) -> bool:
        scheme, _, token = (header or "").strip().partition(" ")
        return scheme.lower() == "basic" and hmac.compare_digest(token.strip().encode(), self._token)

    def health(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "rejected": self.rejected,
            "spooled": self.spool.waiting(),
            "loaded": self.loader.stats.loaded,
            "loading": "failing (see the receiver's log)" if self.loader.stats.last_error else "ok",
            "spool": f"failing: {self.spool.failed}; restart the receiver" if self.spool.failed else "ok",
        }

    def reject(self, reason: str, detail: str, body: str, remote: str) -> None:
        at = datetime.now(UTC).isoformat()
        record = {
            "kind": "rejection",
            "_id": hashlib.sha256(f"{at}|{reason}|{body}".encode()).hexdigest()[:32],
            "_received_at": at,
            "reason": reason,
            "detail": detail,
            "body": body[:BODY_KEPT],
            "remote": remote,
        }
        try:
            self.spool.append(record, 0)
        except OSError as exc:
            console().error(f"mailjet-elt webhooks: cannot record a rejected request ({exc})")
        with self._count_lock:
            self.rejected += 1

    def receive(self, body: bytes, remote: str) -> tuple[int, str]:
        """Spool a delivery; the status and text to answer."""
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            self.reject("malformed_json", str(exc), body.decode("utf-8", "replace"), remote)
            return 400, "the body is not JSON"
        items = parsed if isinstance(parsed, list) else [parsed]
        events = [e for e in items if isinstance(e, dict)]
        if not events and items:
            self.reject(
                "not_events",
                "neither an event object nor an array of them",
                body.decode("utf-8", "replace"),
                remote,
            )
            return 400, "expected an event object or an array of event objects"
        for item in items:
            if not isinstance(item, dict):
                self.reject(
                    "not_an_event", "an array item that is not an object", orjson.dumps(item).decode(), remote
                )
        if events:
            try:
                self.spool.append(
                    {"kind": "events", "at": datetime.now(UTC).isoformat(), "events": events}, len(events)
                )
            except OSError as exc:  # not on disk for sure: Mailjet keeps it and retries
                console().error(f"mailjet-elt webhooks: cannot spool a delivery ({exc}); answered 503")
                return 503, "cannot store the events now; retry later"
            with self._count_lock:
                self.received += len(events)
            if self.spool.pending_events >= self.config.flush_events:
                # Files of a bounded size: a burst faster than the loads waits on disk, not in memory.
                try:
                    self.spool.seal(min_events=self.config.flush_events)
                except OSError as exc:  # acknowledged events were synced by their own request
                    console().error(f"mailjet-elt webhooks: could not seal the spool file ({exc})")
                self.loader.nudge()
        return 200, "OK"


def spool_folder(db: str, destination: str | None) -> Path:
    """Where the receiver spools: beside the DuckDB file, or in dlt's pipelines folder, one per
    destination."""
    folder = pipelines_dir(db, destination)
    if folder is not None:
        return folder / "webhooks-spool"
    return Path(get_dlt_pipelines_dir()) / f"webhooks-spool-{destination}"


def serve(
    *,
    db: str,
    destination: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8766,
    config: WebhooksConfiguration | None = None,
    lock_wait: float = DEFAULT_LOCK_WAIT_SECONDS,
    ready: Callable[[Receiver], None] | None = None,
    stop: threading.Event | None = None,
) -> LoaderStats:
    """Serve until `stop` is set (or the process is stopped); loads what is pending first."""
    config = config or resolve_webhooks_config()
    spool = Spool(spool_folder(db, destination))
    spool.open()
    loader = Loader(spool, db, destination, config, lock_wait)
    pending = len(spool.sealed())
    if pending:
        console().info(f"mailjet-elt webhooks: loading {pending} spool file(s) left by a stopped receiver")
    try:
        loader.flush()
    except Exception as exc:  # noqa: BLE001 (receive anyway: the spool keeps what is pending)
        console().error(f"mailjet-elt webhooks: loading what was pending failed ({exc}); receiving anyway")
    try:
        receiver = Receiver((host, port), config, spool, loader)
    except OSError as exc:
        spool.close()
        raise CommandError(
            f"cannot listen on {host}:{port}: {exc.strerror}; choose another --port", EXIT_USAGE
        ) from None
    loader.start()
    thread = threading.Thread(target=receiver.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    if ready is not None:
        ready(receiver)
    stop = stop or threading.Event()
    try:
        while not stop.wait(0.5):  # a signal (Ctrl-C, SIGTERM) ends the wait in the main thread
            pass
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: how a receiver is stopped; what it holds loads first
        console().info("mailjet-elt webhooks: stopping; loading what was received")
    finally:
        receiver.shutdown()
        receiver.server_close()
        # A first Ctrl-C or SIGTERM also raised dlt's flag, which would stop the last load at its first
        # step: that load is short and is what the stop promises. A second signal still ends it at once.
        dlt_signals: Any = sys.modules.get("dlt.common.runtime.signals")
        if dlt_signals is not None:
            dlt_signals.set_received_signal(0)
        loader.stop()
        spool.close()
    return loader.stats
