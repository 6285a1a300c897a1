"""A small synchronous Mailjet REST client: Basic auth, JSON in and out, errors classified."""

from __future__ import annotations

import contextvars
import http.client
import io
import json
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
from dlt.sources.helpers.requests.session import Session
from dlt.sources.helpers.rest_client.auth import AuthConfigBase
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
from sources.mailjet.exceptions import (
    MailjetAuthError,
    MailjetBadRequest,
    MailjetError,
    MailjetJobFailed,
    MailjetNotFound,
    MailjetRateLimited,
    MailjetServerError,
    MailjetUnexpectedAnswer,
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


def _error_message(response: requests.Response) -> str:
    """Mailjet's ErrorMessage when the body is JSON, else the start of the body (429s send HTML)."""
    try:
        body = response.json()
    except (ValueError, RecursionError):
        return response.text[:200].strip()
    if isinstance(body, dict):
        return str(body.get("ErrorMessage") or body)
    return str(body)[:200]


class MailjetClient:
    """Talks to one Mailjet account (or the sandbox) at `base_url`."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        api_secret: str,
        timeout: float = settings.DEFAULT_TIMEOUT_SECONDS,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.auth = (api_key, api_secret)
        adapter = WholeRequestAdapter()  # `timeout` bounds each whole request
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        """Release the connection pool."""
        self.session.close()

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """One call; returns the decoded JSON body (None when empty) or raises a classified error."""
        url = f"{self.base_url}{path}"
        try:
            response = self.session.request(
                method, url, params=params, json=json, data=data, headers=headers, timeout=self.timeout
            )
        except requests.Timeout as exc:
            raise MailjetServerError(f"{method} {path}: timed out talking to {self.base_url}: {exc}") from exc
        except requests.ConnectionError as exc:
            raise MailjetServerError(
                f"{method} {path}: {type(exc).__name__} talking to {self.base_url}"
            ) from exc
        except requests.RequestException as exc:  # an unusable URL or body: retrying won't help
            raise MailjetError(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        failure = status_error(method, path, response, retried=False)
        if failure is not None:
            raise failure
        if not response.content:
            return None
        try:
            return response.json()
        except (ValueError, RecursionError) as exc:
            raise MailjetServerError(f"{method} {path}: response is not JSON", response.status_code) from exc

    def get(self, resource: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """GET /v3/REST/<resource>: the `Data` rows."""
        path = f"{settings.REST_PREFIX}/{resource}"
        return self._rows("GET", path, self.request("GET", path, params=params))

    def post(self, resource: str, payload: Any) -> list[dict[str, Any]]:
        """POST /v3/REST/<resource>: the `Data` rows."""
        path = f"{settings.REST_PREFIX}/{resource}"
        return self._rows("POST", path, self.request("POST", path, json=payload))

    def count(self, resource: str, params: Mapping[str, Any] | None = None) -> int:
        """GET /v3/REST/<resource>?countOnly=1: the `Total` rows matching `params`."""
        path = f"{settings.REST_PREFIX}/{resource}"
        body = self.request("GET", path, params={**(params or {}), "countOnly": 1})
        total = body.get("Total") if isinstance(body, dict) else None
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            raise self._unexpected("GET", f"{path}?countOnly=1", body, "Total: a count of 0 or more")
        return total

    def _rows(self, method: str, path: str, body: Any) -> list[dict[str, Any]]:
        """The `Data` list of Mailjet's envelope."""
        rows = body.get("Data") if isinstance(body, dict) else None
        if not isinstance(rows, list):
            raise self._unexpected(method, path, body, "Data: a list of rows")
        return rows

    def _unexpected(self, method: str, path: str, body: Any, wanted: str) -> MailjetUnexpectedAnswer:
        """The error for a success answer that is not in Mailjet's shape."""
        text = json.dumps(body, ensure_ascii=False)
        shown = text if len(text) <= 120 else f"{text[:120]}..."
        return MailjetUnexpectedAnswer(
            f"unexpected answer from {self.base_url}: {method} {path} answered {shown}, where Mailjet "
            f"answers an object with {wanted}. Is [mailjet] base_url (MAILJET__BASE_URL) Mailjet's API?"
        )

    def wait_for_job(
        self, status_path: str, timeout: float = 600.0, poll_seconds: float = 0.2
    ) -> tuple[dict[str, Any], list[str]]:
        """Poll a bulk job until Completed; returns its final status and the statuses seen.
        Raises MailjetJobFailed on Error/Abort and MailjetError on timeout."""
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            job = self.get(status_path)[0]
            status = str(job.get("Status"))
            if not seen or seen[-1] != status:
                seen.append(status)
            if status in settings.JOB_DONE:
                return job, seen
            if status in settings.JOB_FAILED:
                raise MailjetJobFailed(f"job {status_path} ended {status}: {job.get('Error') or 'no detail'}")
            if time.monotonic() > deadline:
                raise MailjetError(f"job {status_path} still {status} after {timeout:.0f} s")
            time.sleep(poll_seconds)


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
    """What the extract's HTTP layer did: requests sent (retries included) and retries by reason."""

    requests: int = 0
    retries: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def sent(self) -> None:
        with self.lock:
            self.requests += 1

    def retried(self, reason: str) -> None:
        with self.lock:
            self.retries[reason] += 1


def _retry_reason(state: RetryCallState) -> str:
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


class _RESTClient(RESTClient):
    """dlt's REST client, decoding pages with orjson (Mailjet pages are large; stdlib json is slower)."""

    def extract_response(self, response: requests.Response, data_selector: Any) -> list[Any]:
        return list(orjson.loads(response.content)[data_selector])


@dataclass(frozen=True)
class HttpSettings:
    """How the extract talks HTTP."""

    concurrency: int = settings.DEFAULT_CONCURRENCY
    requests_per_second: float = 0.0
    timeout: float = settings.DEFAULT_TIMEOUT_SECONDS
    max_attempts: int = settings.DEFAULT_MAX_ATTEMPTS
    backoff_seconds: float = settings.DEFAULT_BACKOFF_SECONDS
    max_backoff_seconds: float = settings.DEFAULT_MAX_BACKOFF_SECONDS


class MailjetHttp:
    """dlt REST clients for one account, one per thread, sharing a connection pool, a client-side rate
    limit and retries: 429 (HTML body, no Retry-After), 5xx, timeouts and dropped connections are retried
    with jittered exponential backoff (dlt's retry conditions on a tenacity policy with jitter)."""

    def __init__(self, base_url: str, auth: AuthConfigBase, http: HttpSettings) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.settings = http
        self.limiter = RateLimiter(http.requests_per_second)
        self.stats = HttpStats()
        # A connection per thread that can be in a request at once: dlt pulls every resource
        # round-robin, so all their page readers are active together, each with at most `concurrency`
        # threads in a request (its lanes, or its count workers, or the extract's own thread).
        # Connections are opened on demand; this only caps how many are kept for reuse.
        self._adapter = WholeRequestAdapter(
            pool_connections=2, pool_maxsize=max(http.concurrency, 1) * settings.MAX_ACTIVE_READERS
        )
        self._local = threading.local()

    def with_auth(self, auth: AuthConfigBase) -> MailjetHttp:
        """The same account's HTTP layer under other credentials (the SMS token), sharing the rate
        limit, the request counters and the connection pool."""
        other = MailjetHttp(self.base_url, auth, self.settings)
        other.limiter, other.stats, other._adapter = self.limiter, self.stats, self._adapter
        return other

    def rest(self) -> RESTClient:
        """This thread's REST client."""
        client: RESTClient | None = getattr(self._local, "client", None)
        if client is None:
            client = _RESTClient(
                base_url=self.base_url, auth=self.auth, session=self._session(), data_selector="Data"
            )
            self._local.client = client
        return client

    def _session(self) -> Session:
        session = Session(timeout=self.settings.timeout, raise_for_status=False)
        session.headers["User-Agent"] = settings.USER_AGENT
        session.mount("http://", self._adapter)
        session.mount("https://", self._adapter)
        send: Callable[..., requests.Response] = session.send

        def limited_send(request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
            self.limiter.wait()
            self.stats.sent()
            return send(request, **kwargs)

        policy = Retrying(
            wait=wait_exponential_jitter(
                multiplier=self.settings.backoff_seconds,
                max=self.settings.max_backoff_seconds,
                jitter=self.settings.backoff_seconds,
            ),
            retry=retry_any(
                retry_if_status(DEFAULT_RETRY_STATUS), retry_if_exception_type(DEFAULT_RETRY_EXCEPTIONS)
            ),
            stop=stop_after_attempt(self.settings.max_attempts),
            before_sleep=lambda state: self.stats.retried(_retry_reason(state)),
            reraise=True,
            # Out of attempts on a retryable status: hand back the last response to be classified.
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
        )
        session.send = policy.wraps(limited_send)  # type: ignore[method-assign]
        return session

    def get_json(self, path: str, params: Mapping[str, Any]) -> Any:
        """One GET, decoded; failures raised as classified MailjetErrors."""
        try:
            response = self.rest().get(path, params=dict(params))
        except requests.RequestException as exc:
            raise classify(exc, path) from None
        failure = status_error("GET", path, response, retried=True)
        if failure is not None:
            raise failure
        return orjson.loads(response.content)


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
        return MailjetBadRequest(f"{method} {path}: {_error_message(response)}", status)
    return None


def classify(exc: BaseException, path: str) -> MailjetError:
    """A requests failure of a GET (after retries) as a MailjetError that says what to do."""
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        failure = status_error("GET", path, exc.response, retried=True)
        if failure is not None:
            return failure
    return MailjetServerError(f"GET {path}: {type(exc).__name__} after retrying: {exc}")
