"""Event API delivery: POSTs events to the URLs registered in `eventcallbackurl` — Version 1 one object
per request, Version 2 arrays grouping a second's events — and retries anything but a 200: every
`retry_seconds` until `give_up_seconds` after the first failure, or under the quirk `webhook-retry-10x10min`
10 times 10 minutes apart; then the callback is suspended (`Status: dead`)."""

from __future__ import annotations

import heapq
import ipaddress
import itertools
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson
import requests

from sandbox import settings

if TYPE_CHECKING:
    from sandbox.store import Store

log = logging.getLogger("sandbox.webhooks")


def is_loopback_url(url: str) -> bool:
    """Whether a URL points at this machine (the only place the sandbox delivers to by default)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(order=True)
class Delivery:
    due: float
    seq: int
    callback_ids: set[int] = field(compare=False)
    url: str = field(compare=False)
    version: int = field(compare=False)
    events: list[dict[str, Any]] = field(compare=False)
    attempts: int = field(default=0, compare=False)
    first_failure: float | None = field(default=None, compare=False)


class WebhookDispatcher:
    """A background thread delivering events; `submit` is called with the store lock held."""

    def __init__(
        self,
        store: Store,
        retry_seconds: float = settings.DEFAULT_WEBHOOK_RETRY_SECONDS,
        give_up_seconds: float = settings.DEFAULT_WEBHOOK_GIVE_UP_SECONDS,
        group_seconds: float = 1.0,
        allow_remote: bool = False,
    ) -> None:
        self.store = store
        self.retry_seconds = retry_seconds
        self.give_up_seconds = give_up_seconds
        self.group_seconds = group_seconds
        self.allow_remote = allow_remote
        self.log: list[dict[str, Any]] = []
        self._queue: list[Delivery] = []
        self._groups: dict[str, Delivery] = {}
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stop = False
        self._busy = 0
        self._session = requests.Session()
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)

    def start(self) -> None:
        """Start the delivery thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop delivering (pending deliveries are dropped)."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join(timeout=5)
        self._session.close()

    def submit(self, event: dict[str, Any]) -> None:
        """Queue an event for every live callback registered for its type (the backup when the primary
        is dead)."""
        targets = [c for c in self.store.callbacks if c.EventType == event.get("event")]
        live = [c for c in targets if not c.IsBackup and c.Status == "alive"]
        if not live:
            live = [c for c in targets if c.IsBackup and c.Status == "alive"]
        now = time.monotonic()
        with self._cond:
            for cb in live:
                if cb.Version == 2:
                    # Version 2 groups the last second's events of every type registered on one URL.
                    group = self._groups.get(cb.Url)
                    if group is None:
                        group = Delivery(now + self.group_seconds, next(self._seq), set(), cb.Url, 2, [])
                        self._groups[cb.Url] = group
                        heapq.heappush(self._queue, group)
                    group.callback_ids.add(cb.ID)
                    group.events.append(event)
                else:
                    heapq.heappush(self._queue, Delivery(now, next(self._seq), {cb.ID}, cb.Url, 1, [event]))
            self._cond.notify_all()

    def pending(self) -> int:
        """Deliveries queued or in flight."""
        with self._cond:
            return len(self._queue) + self._busy

    def flush(self, timeout: float = 10.0) -> bool:
        """Make every queued delivery due now, retries included, and wait until each has been attempted
        once more (a failed one is queued again for its next retry)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            due = [(item, item.attempts) for item in self._queue]
            for item, _ in due:
                item.due = 0.0
            heapq.heapify(self._queue)
            self._groups.clear()
            self._cond.notify_all()

            def waiting() -> bool:
                return any(item.attempts == attempts for item, attempts in due) or self._busy > 0

            while waiting() and time.monotonic() < deadline:
                self._cond.wait(0.05)
            return not waiting()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stop and (not self._queue or self._queue[0].due > time.monotonic()):
                    wait = self._queue[0].due - time.monotonic() if self._queue else None
                    self._cond.wait(wait)
                if self._stop:
                    return
                item = heapq.heappop(self._queue)
                if self._groups.get(item.url) is item:
                    del self._groups[item.url]
                self._busy += 1
            try:
                self._deliver(item)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _deliver(self, item: Delivery) -> None:
        body: Any = item.events if item.version == 2 else item.events[0]
        item.attempts += 1
        status: int | str
        if not self.allow_remote and not is_loopback_url(item.url):
            status = "refused: the sandbox only delivers to loopback URLs"
        else:
            try:
                reply = self._session.post(
                    item.url,
                    data=orjson.dumps(body),
                    headers={"Content-Type": "application/json"},
                    timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
                )
                status = reply.status_code
            except requests.RequestException as exc:
                status = f"error: {type(exc).__name__}"
        now = time.monotonic()
        entry = {
            "callback_ids": sorted(item.callback_ids),
            "url": item.url,
            "version": item.version,
            "events": len(item.events),
            "event_types": sorted({e.get("event", "") for e in item.events}),
            "attempt": item.attempts,
            "status": status,
        }
        give_up = False
        with self._cond:
            self.log.append(entry)
            if status == 200:
                return
            item.first_failure = item.first_failure if item.first_failure is not None else now
            if "webhook-retry-10x10min" in self.store.quirks:  # a quirk: the older policy
                give_up = item.attempts > settings.WEBHOOK_OLD_RETRIES
                retry = settings.WEBHOOK_OLD_RETRY_SECONDS
            else:
                give_up = now - item.first_failure >= self.give_up_seconds
                retry = self.retry_seconds
            if give_up:
                entry["gave_up"] = True
            else:
                entry["retry_in"] = retry
                item.due = now + retry
                item.seq = next(self._seq)
                heapq.heappush(self._queue, item)
        if give_up:
            self._mark_dead(item.callback_ids)

    def _mark_dead(self, callback_ids: set[int]) -> None:
        with self.store.lock:
            for callback_id in callback_ids:
                cb = self.store.callbacks.get(callback_id)
                if cb is not None:
                    cb.Status = "dead"
            self.store.callbacks.touch()
