"""The sandbox as a whole: configuration, state, faults, webhook delivery and the HTTP server, with
`start()`/`stop()` for running it in-process (tests, the demo) or in the foreground (the CLI)."""

from __future__ import annotations

import contextlib
import gc
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sandbox import settings
from sandbox.admin import Admin
from sandbox.clock import Clock
from sandbox.exceptions import SandboxConfigError
from sandbox.faults import Faults
from sandbox.quirks import Quirks, parse_quirks
from sandbox.seed import SeedSize, seed_store
from sandbox.server import Dispatcher, Handler, SandboxHTTPServer
from sandbox.store import Store
from sandbox.webhooks import WebhookDispatcher


@dataclass
class SandboxConfig:
    """Everything a sandbox is started with."""

    host: str = settings.DEFAULT_HOST
    port: int = 0  # 0 = any free port
    api_key: str = settings.DEFAULT_API_KEY
    api_secret: str = settings.DEFAULT_API_SECRET
    sms_token: str = settings.DEFAULT_SMS_TOKEN
    contacts: int = settings.DEFAULT_CONTACTS
    memberships: int | None = None  # default: one per contact
    messages: int | None = None  # default: one per contact
    seed: int = settings.DEFAULT_SEED
    now: str | float | None = None  # the clock's start; default: real time
    frozen_clock: bool = False
    faults: str = ""
    quirks: str = ""  # other readings of the API's ambiguities (sandbox/quirks.py); "" = none, "all"
    job_seconds: float = settings.DEFAULT_JOB_SECONDS
    webhook_retry_seconds: float = settings.DEFAULT_WEBHOOK_RETRY_SECONDS
    webhook_give_up_seconds: float = settings.DEFAULT_WEBHOOK_GIVE_UP_SECONDS
    webhook_group_seconds: float = 1.0
    allow_remote_webhooks: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        """Reject options that cannot work, naming the option."""
        if self.host not in ("127.0.0.1", "localhost", "::1"):
            raise SandboxConfigError(
                f"--host {self.host}: the sandbox binds to loopback only (127.0.0.1, ::1)"
            )
        if not 0 <= self.port <= 65535:
            raise SandboxConfigError(f"--port {self.port}: must be 0..65535")
        for name in ("contacts", "memberships", "messages"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 20_000_000:
                raise SandboxConfigError(f"--{name} {value}: must be between 0 and 20,000,000")
        if self.job_seconds < 0:
            raise SandboxConfigError(f"--job-seconds {self.job_seconds}: must be >= 0")
        if not self.api_key or not self.api_secret:
            raise SandboxConfigError("--api-key and --api-secret must not be empty")


class SandboxApp:
    """A running (or ready to run) sandbox."""

    def __init__(self, config: SandboxConfig) -> None:
        config.validate()
        self.config = config
        self.faults = Faults.parse(config.faults)
        self.quirks = parse_quirks(config.quirks)
        self.stats_lock = threading.Lock()
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.seconds_to_seed = 0.0
        self._frozen = False
        self.store = self._new_store(
            config.seed, SeedSize(config.contacts, config.memberships, config.messages)
        )
        self.webhooks = WebhookDispatcher(
            self.store,
            retry_seconds=config.webhook_retry_seconds,
            give_up_seconds=config.webhook_give_up_seconds,
            group_seconds=config.webhook_group_seconds,
            allow_remote=config.allow_remote_webhooks,
        )
        self.store.sink = self.webhooks.submit
        self.dispatcher = Dispatcher(self)
        self.admin = Admin(self)

    def _new_store(self, seed: int, size: SeedSize) -> Store:
        started = time.perf_counter()
        store = Store(Clock(self.config.now, frozen=self.config.frozen_clock))
        seed_store(store, size, seed)
        # Seeded rows live as long as the store: keep the cyclic GC from rescanning them on every
        # collection, which otherwise makes request latency grow with the account size. A small account
        # costs the collector nothing worth the full collection that freezing needs first.
        if size.contacts >= settings.GC_FREEZE_CONTACTS:
            gc.collect()
            gc.freeze()
            self._frozen = True
        store.job_seconds = self.config.job_seconds
        store.faults = self.faults
        store.quirks = getattr(self, "quirks", Quirks())
        self.seconds_to_seed = time.perf_counter() - started
        return store

    def reseed(self, seed: int, size: SeedSize) -> None:
        """Replace the whole state with freshly seeded data (webhook registrations included)."""
        store = self._new_store(seed, size)
        with self.store.lock:
            store.base_url = self.store.base_url
            store.sink = self.webhooks.submit
            self.webhooks.store = store
            self.store = store
        with self.stats_lock:
            self.dispatcher.counts.clear()

    @contextlib.contextmanager
    def store_lock(self) -> Iterator[None]:
        """Hold the current store's lock."""
        with self.store.lock:
            yield

    def handle(self, http: Handler) -> None:
        """Serve one request (called by the HTTP handler)."""
        self.dispatcher.handle(http)

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:<port>`."""
        if self._server is None:
            raise RuntimeError("sandbox not started")
        host, port = self._server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        shown = f"[{host}]" if ":" in str(host) else host
        return f"http://{shown}:{port}"

    def start(self) -> SandboxApp:
        """Bind and serve in a background thread."""
        self._server = SandboxHTTPServer(self, self.config.host, self.config.port)
        self.store.base_url = self.base_url
        self.webhooks.start()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="sandbox-http",
            daemon=True,
        )
        self._thread.start()
        return self

    def wait(self) -> None:
        """Block until the server thread ends (Ctrl-C interrupts)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def stop(self) -> None:
        """Stop serving and delivering."""
        if self._server is not None:
            if self._thread is not None:
                self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.webhooks.stop()
        # Hand what seeding froze back to the collector, so an embedding process (the demo, tests) ends
        # with its objects released rather than reported leaked by extension modules at exit.
        if self._frozen:
            gc.unfreeze()
            self._frozen = False

    def __enter__(self) -> SandboxApp:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
