"""`mailjet-elt webhooks serve` and `webhooks register`: Mailjet's Event API into `mailjet_api.events`,
durably, through the receiver and spool of `sources/mailjet_webhooks`.

A loader thread takes the spool in micro-batches (every `flush_seconds`, or sooner past `flush_events`): it
seals the current spool file, loads the sealed files through dlt under the database's writer lock (held
only for that load, never while waiting for events), merging on each event's key so that Mailjet's retried
deliveries and a file loaded twice after a crash add nothing, then deletes them. Killed at any moment,
the receiver loses nothing it acknowledged: a restart loads what the spool still holds.

The console gets a line when the receiver listens, one per batch loaded (none for a wake-up that finds
nothing), and one when it stops, with the totals; in JSON lines (`--log-format json`) each line's figures
are fields of their own."""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from dlt.pipeline.exceptions import PipelineStepFailed

from pipelines.errors import EXIT_FAILURE, EXIT_USAGE, CommandError
from pipelines.interrupts import Interrupted, InterruptHandler, reraise_if_interrupted
from pipelines.logs import FIGURES, console
from pipelines.settings import DEFAULT_LOCK_WAIT_SECONDS
from pipelines.warehouse import API_DATASET, WarehouseBusy, open_pipeline, pipelines_dir
from pipelines.warehouse.catalog import relations
from pipelines.warehouse.writing import writing
from pipelines.webhooks_log import batch_line, oldest_arrival, start_line, stop_line
from sources.mailjet.client import MailjetHttp
from sources.mailjet.config import resolve_mailjet_config
from sources.mailjet.exceptions import MailjetConfigError, MailjetError
from sources.mailjet.schema import EVENTS, WEBHOOK_REJECTIONS
from sources.mailjet_webhooks.config import WebhooksConfiguration, resolve_webhooks_config
from sources.mailjet_webhooks.events import to_arrow
from sources.mailjet_webhooks.exceptions import SpoolBusy, WebhooksConfigError
from sources.mailjet_webhooks.receiver import Receiver
from sources.mailjet_webhooks.register import (
    Registration,
    chosen_events,
    register_callbacks,
    scrub,
    with_credentials,
)
from sources.mailjet_webhooks.spool import Spool, fsync_dir, read_spool

BATCH_EVENTS = 25_000  # a load takes whole spool files until it holds this many events (or the spool ends)


@dataclass
class LoaderStats:
    loaded: int = 0  # events loaded (before deduplication)
    rejections: int = 0  # rows loaded into webhook_rejections
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
        # The views are (re)published by this process's first load (a receiver killed between a load and its
        # publish left the table without its view), and whenever a table it loads is new (the first
        # rejection may come long after the first event: its view stood in for an absent table until then).
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
            except Interrupted:  # Ctrl-C or SIGTERM stopped this load: no fault of its files
                console().info("mailjet-elt webhooks: a stop interrupted a load; its events stay spooled")
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
            fsync_dir(self.spool.folder)
            self.spool.gone(group)
        return loaded

    def _set_aside(self, path: Path, exc: Exception) -> bool:
        """A sealed file that fails to load on its own: renamed `unloadable-*.jsonl` (kept, never lost),
        recorded in webhook_rejections, so that the files after it load. False when even that failed."""
        target = path.with_name(path.name.replace("sealed-", "unloadable-"))
        try:
            os.replace(path, target)
            fsync_dir(self.spool.folder)
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
        batch = [
            (table, to_arrow(table, rows, now))
            for table, rows in ((EVENTS, events), (WEBHOOK_REJECTIONS, rejections))
            if rows
        ]
        if not batch:
            return 0
        data = [table.resource(_once(arrow)) for table, arrow in batch]
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
                present = relations(client, API_DATASET) if client.has_dataset() else {}
            had = all(table.name in present for table, _ in batch)
            try:
                warehouse.load("webhooks serve", data, stop)
            except PipelineStepFailed as exc:
                reraise_if_interrupted(exc)
                raise RuntimeError(str(exc.exception)) from None
            warehouse.close_journal()
            if not had or not self._published:
                warehouse.publish()  # the views read the new tables from now on
                self._published = True
        self.stats.loaded += len(events)
        self.stats.rejections += len(rejections)
        self.stats.batches += 1
        oldest = oldest_arrival([arrow for _, arrow in batch])
        lag = None if oldest is None else max(0.0, (datetime.now(UTC) - oldest).total_seconds())
        message, figures = batch_line(len(events), len(rejections), lag)
        console().info(message, extra={FIGURES: figures})
        return len(events)


def _once(table: pa.Table) -> Callable[[], Iterator[pa.Table]]:
    def gen() -> Iterator[pa.Table]:
        yield table

    return gen


def spool_folder(db: str, destination: str | None) -> Path:
    """Where the receiver spools: in the working folder of the database (beside the DuckDB file, or the
    project's folder of the warehouse)."""
    return pipelines_dir(db, destination) / "webhooks-spool"


def check_former_spool(destination: str, folder: Path) -> None:
    """Refuse to serve while the spool an earlier version kept for `destination` in dlt's global folder
    still holds events: received and acknowledged (unsubscriptions among them), they would never load. The
    message says where they are and how to move them to `folder`, the spool now."""
    from dlt.common.pipeline import get_dlt_pipelines_dir

    former = Path(get_dlt_pipelines_dir()) / f"webhooks-spool-{destination}"
    if not any(former.glob("*.jsonl")):
        return
    raise CommandError(
        f"events received by an earlier version still wait in {former}: they would never load from there. "
        f"With no receiver running, move them into this warehouse's spool (mkdir -p {folder} && mv "
        f"{former}/*.jsonl {folder}/, if they were received for this warehouse), then start again",
        EXIT_USAGE,
    )


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
    if destination is not None:
        open_pipeline(db, destination, API_DATASET)  # refuses a destination without SQL before receiving
        check_former_spool(destination, spool_folder(db, destination))
    with _command_errors():
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
    into = db if destination is None else f"the {destination} destination"
    message, figures = start_line(receiver.url, spool.folder, into, config.flush_seconds)
    console().info(message, extra={FIGURES: figures})
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
        done = loader.stats
        message, figures = stop_line(done.loaded, done.rejections, done.batches, spool.waiting())
        console().info(message, extra={FIGURES: figures})
    return loader.stats


@contextmanager
def _command_errors() -> Iterator[None]:
    """The webhook source's errors as the CLI's: a setting or argument to fix exits 2."""
    try:
        yield
    except (WebhooksConfigError, MailjetConfigError) as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    except SpoolBusy as exc:
        raise CommandError(str(exc), EXIT_FAILURE) from None


@dataclass(frozen=True)
class RegisterResult:
    registrations: list[Registration]
    requests: int


def register(url: str, events: list[str] | None = None, version: int = 2) -> RegisterResult:
    """Create or update the callbacks of `events` (default: every type) to `url`."""
    with _command_errors():
        chosen = chosen_events(events, version)
        target = with_credentials(url)
        config = resolve_mailjet_config()
    http = MailjetHttp.from_config(config)
    done: list[Registration] = []
    try:
        register_callbacks(http, target, chosen, version, done)
    except MailjetError as exc:
        raise CommandError(
            f"Mailjet refused ({scrub(str(exc), target)}); {len(done)} of {len(chosen)} event types were "
            "registered; run the command again once fixed (it is safe to repeat)",
            EXIT_FAILURE,
        ) from None
    finally:
        http.close()
    return RegisterResult(done, http.stats.requests)
