"""The HTTP transport under the Mailjet client: a timeout that bounds a whole request, a client-side rate
limit, request counters, the retry policy, and the classification of failures as MailjetErrors."""

from __future__ import annotations

import contextvars
import http.client
import io
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import requests
from dlt.sources.helpers.requests.retry import (
    DEFAULT_RETRY_EXCEPTIONS,
    DEFAULT_RETRY_STATUS,
    retry_if_status,
)
from dlt.sources.helpers.rest_client.client import RESTClient
from requests.adapters import HTTPAdapter
from tenacity import (
    RetryCallState,
    Retrying,
    retry_any,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)
from urllib3 import connection, connectionpool, poolmanager
from urllib3.exceptions import ReadTimeoutError

from sources.mailjet import settings
from sources.mailjet.config import MailjetConfiguration
from sources.mailjet.exceptions import (
    MailjetAuthError,
    MailjetBadRequest,
    MailjetError,
    MailjetNotFound,
    MailjetRateLimited,
    MailjetServerError,
)

# The monotonic instant the request being sent on this thread must be complete by.
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("mailjet_deadline", default=None)


class _DeadlineReader(io.RawIOBase):
    """A socket's reading end that gives up at a deadline: each read may wait only for the time left,
    so a server dripping bytes cannot stretch a request past it."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock = sock
        self._raw = sock.makefile("rb", buffering=0)  # holds the socket open until the body is read
        self._deadline = deadline
        self._per_read = sock.gettimeout()

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._raw.fileno()

    def readinto(self, buffer: Any) -> int | None:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("request deadline passed")
        self._sock.settimeout(left if self._per_read is None else min(self._per_read, left))
        return self._raw.readinto(buffer)

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


class _DeadlineSocket:
    """What http.client's response needs of a socket (`makefile`), reading under a deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline))


class _DeadlineResponse(http.client.HTTPResponse):
    """http.client's response, reading status line, headers and body under this thread's deadline."""

    def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        deadline = _DEADLINE.get()
        reader: Any = sock if deadline is None else _DeadlineSocket(sock, deadline)  # duck-typed socket
        super().__init__(reader, *args, **kwargs)


class _HTTPConnection(connection.HTTPConnection):
    response_class = _DeadlineResponse


class _HTTPSConnection(connection.HTTPSConnection):
    response_class = _DeadlineResponse


class _HTTPConnectionPool(connectionpool.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSConnectionPool(connectionpool.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_DEADLINE_POOLS = {"http": _HTTPConnectionPool, "https": _HTTPSConnectionPool}


class WholeRequestAdapter(HTTPAdapter):
    """An HTTPAdapter whose timeout bounds a whole request, not each socket operation: a request sent
    with `timeout=N` (seconds) must be connected, answered and read in full within N seconds, else it
    raises requests' ReadTimeout (retryable). requests and urllib3 only bound single connects and socket
    reads, which a server dripping a byte at a time never trips, hence this adapter. Every socket read
    waits at most for the time left, so large bodies cost no more than before."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _DEADLINE_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> poolmanager.PoolManager:
        manager: poolmanager.PoolManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if manager.pool_classes_by_scheme == poolmanager.pool_classes_by_scheme:  # not SOCKS
            manager.pool_classes_by_scheme = _DEADLINE_POOLS
        return manager

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        if not isinstance(timeout, int | float):  # a (connect, read) pair or none: per operation only
            return super().send(request, stream, timeout, verify, cert, proxies)
        token = _DEADLINE.set(time.monotonic() + timeout)
        try:
            response = super().send(request, True, timeout, verify, cert, proxies)
            if not stream:
                response.content  # noqa: B018  # read the body here, under the deadline
        except (requests.Timeout, requests.ConnectionError) as exc:
            timed_out = isinstance(exc, requests.ReadTimeout) or (
                exc.args and isinstance(exc.args[0], ReadTimeoutError)
            )
            if not timed_out:
                raise
            raise requests.ReadTimeout(f"no complete answer within {timeout:g} s", request=request) from exc
        finally:
            _DEADLINE.reset(token)
        return response


def error_message(response: requests.Response) -> str:
    """Mailjet's ErrorMessage when the body is JSON, else the start of the body (429s send HTML)."""
    try:
        body = response.json()
    except (ValueError, RecursionError):
        return response.text[:200].strip()
    if isinstance(body, dict):
        return str(body.get("ErrorMessage") or body)
    return str(body)[:200]


class RateLimiter:
    """Spaces requests evenly at no more than `per_second` across all threads (0 = no limit).
    A dozen lines instead of a dependency: a single shared next-free-slot is all we need."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until this request's slot."""
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


@dataclass
class HttpStats:
    """What the client did: requests sent (retries included) and retries by reason."""

    requests: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    by_path: Counter[str] = field(default_factory=Counter)  # "GET /v3/REST/contact": requests
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def sent(self, method: str = "", path: str = "") -> None:
        with self.lock:
            self.requests += 1
            if path:
                self.by_path[f"{method} {path}"] += 1

    def retried(self, reason: str) -> None:
        with self.lock:
            self.retries[reason] += 1


def retry_reason(state: RetryCallState) -> str:
    """'429', '5xx' or the exception's name, for the run's retry tally."""
    if state.outcome is None:
        return "unknown"
    exc = state.outcome.exception()
    response = exc.response if isinstance(exc, requests.HTTPError) else None
    if exc is None:
        response = state.outcome.result()
    if isinstance(response, requests.Response):
        code = response.status_code
        return "429" if code == 429 else f"{code // 100}xx"
    return type(exc).__name__


class OrjsonRESTClient(RESTClient):
    """dlt's REST client, decoding pages with orjson (Mailjet pages are large; stdlib json is slower)."""

    def extract_response(self, response: requests.Response, data_selector: Any) -> list[Any]:
        return list(orjson.loads(response.content)[data_selector])


@dataclass(frozen=True)
class HttpSettings:
    """How the client talks HTTP."""

    concurrency: int = settings.DEFAULT_CONCURRENCY
    requests_per_second: float = 0.0
    timeout: float = settings.DEFAULT_TIMEOUT_SECONDS
    max_attempts: int = settings.DEFAULT_MAX_ATTEMPTS
    backoff_seconds: float = settings.DEFAULT_BACKOFF_SECONDS
    max_backoff_seconds: float = settings.DEFAULT_MAX_BACKOFF_SECONDS
    job_poll_seconds: float = settings.JOB_FIRST_POLL_SECONDS  # the first wait before a job's status

    @classmethod
    def from_config(cls, config: MailjetConfiguration) -> HttpSettings:
        """The transport settings of `[mailjet]`."""
        return cls(
            concurrency=config.concurrency,
            requests_per_second=config.requests_per_second,
            timeout=config.timeout_seconds,
            max_attempts=config.max_attempts,
            backoff_seconds=config.backoff_seconds,
            job_poll_seconds=config.job_poll_seconds,
        )


def retry_policy(tuning: HttpSettings, before_sleep: Callable[[RetryCallState], None]) -> Retrying:
    """The retry policy of every request: dlt's retryable statuses and exceptions, jittered exponential
    backoff, `max_attempts` attempts; out of attempts on a retryable status, the last response is returned
    (to be classified) rather than raised."""
    return Retrying(
        wait=wait_exponential_jitter(
            multiplier=tuning.backoff_seconds,
            max=tuning.max_backoff_seconds,
            jitter=tuning.backoff_seconds,
        ),
        retry=retry_any(
            retry_if_status(DEFAULT_RETRY_STATUS), retry_if_exception_type(DEFAULT_RETRY_EXCEPTIONS)
        ),
        stop=stop_after_attempt(tuning.max_attempts),
        before_sleep=before_sleep,
        reraise=True,
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
    )


def status_error(method: str, path: str, response: requests.Response, retried: bool) -> MailjetError | None:
    """The classified error an HTTP answer stands for (None for a success), saying what to do."""
    status = response.status_code
    after = " after retrying" if retried else ""
    if status in (401, 403):
        return MailjetAuthError(
            f"{method} {path}: Mailjet refused the API key ({status}). Check MAILJET__API_KEY and "
            "MAILJET__API_SECRET (or [mailjet] in .dlt/secrets.toml).",
            status,
        )
    if status == 429:
        return MailjetRateLimited(
            f"{method} {path}: rate limited by Mailjet (429){after}; lower [mailjet] requests_per_second "
            "or concurrency",
            status,
        )
    if status >= 500:
        return MailjetServerError(f"{method} {path}: Mailjet server error {status}{after}", status)
    if status == 404:
        return MailjetNotFound(f"{method} {path}: not found", status)
    if status >= 400:
        return MailjetBadRequest(f"{method} {path}: {error_message(response)}", status)
    return None


def classify(exc: BaseException, path: str, method: str = "GET", retried: bool = True) -> MailjetError:
    """A requests failure (after any retries) as a MailjetError that says what went wrong."""
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        failure = status_error(method, path, exc.response, retried)
        if failure is not None:
            return failure
    name = f"{type(exc).__name__}{' after retrying' if retried else ''}"
    if isinstance(exc, requests.ReadTimeout):
        return MailjetServerError(f"{method} {path} timed out: {name}: {exc}")
    if isinstance(exc, requests.Timeout):
        return MailjetServerError(f"{method} {path} timed out: {name}: {_reason(exc)}")
    if isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        return MailjetServerError(f"{method} {path}: {name}: {_reason(exc)}")
    # An unusable URL, body or answer: retrying won't help.
    return MailjetError(f"{method} {path}: {type(exc).__name__}: {exc}")


def _os_error(exc: BaseException) -> OSError | None:
    """The innermost operating-system error under a transport failure, if any."""
    seen: BaseException | None = exc
    for _ in range(20):  # the chain is short; the bound only guards against a cycle
        if seen is None:
            break
        if isinstance(seen, OSError) and seen.strerror:
            return seen
        cause = seen.__cause__ or seen.__context__
        reason = getattr(seen.args[0], "reason", None) if seen.args else None  # urllib3's MaxRetryError
        seen = cause if cause is not None else reason if isinstance(reason, BaseException) else None
    return None


def _reason(exc: BaseException) -> str:
    """The innermost operating-system reason of a transport failure ('Connection refused'), else its text."""
    found = _os_error(exc)
    return found.strerror if found is not None and found.strerror else str(exc)


def refused(exc: BaseException) -> bool:
    """Whether a transport failure is a refused connection (nothing listens at the host and port)."""
    return isinstance(_os_error(exc), ConnectionRefusedError)
