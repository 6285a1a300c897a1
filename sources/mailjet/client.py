"""The Mailjet client: one class for reads, writes, paging and bulk jobs over one retrying, rate-limited,
counted HTTP layer whose timeout bounds each whole request; errors classified."""

from __future__ import annotations

import contextvars
import csv
import http.client
import io
import json as _json
import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, NoReturn
from urllib.parse import urlsplit

import orjson
import requests
from dlt.sources.helpers.requests.retry import (
    DEFAULT_RETRY_EXCEPTIONS,
    DEFAULT_RETRY_STATUS,
    retry_if_status,
)
from dlt.sources.helpers.requests.session import Session
from dlt.sources.helpers.rest_client.auth import AuthConfigBase, HttpBasicAuth
from dlt.sources.helpers.rest_client.client import RESTClient
from requests.adapters import HTTPAdapter
from tenacity import (
    RetryCallState,
    Retrying,
    retry_any,
    retry_if_exception_type,
    retry_if_result,
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
    MailjetHostUnknown,
    MailjetJobFailed,
    MailjetJobTimeout,
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


log = logging.getLogger(__name__)
# getaddrinfo's answers that mean the name does not exist (not that the resolver failed for now).
UNKNOWN_NAME = {socket.EAI_NONAME, *((socket.EAI_NODATA,) if hasattr(socket, "EAI_NODATA") else ())}


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
    """How the client talks HTTP."""

    concurrency: int = settings.DEFAULT_CONCURRENCY
    requests_per_second: float = 0.0
    timeout: float = settings.DEFAULT_TIMEOUT_SECONDS
    max_attempts: int = settings.DEFAULT_MAX_ATTEMPTS
    backoff_seconds: float = settings.DEFAULT_BACKOFF_SECONDS
    max_backoff_seconds: float = settings.DEFAULT_MAX_BACKOFF_SECONDS

    @classmethod
    def from_config(cls, config: MailjetConfiguration) -> HttpSettings:
        """The transport settings of `[mailjet]`."""
        return cls(
            concurrency=config.concurrency,
            requests_per_second=config.requests_per_second,
            timeout=config.timeout_seconds,
            max_attempts=config.max_attempts,
            backoff_seconds=config.backoff_seconds,
        )


@dataclass(frozen=True)
class JobResult:
    """How an async job ended: its final status object, as Mailjet states it, and its error report."""

    job_id: int
    status: str  # Completed, Error or Abort
    job: dict[str, Any]  # the final status object: Count, Error, ErrorFile, JobStart, JobEnd, ...
    errors: list[dict[str, Any]]  # the error report: one row per contact refused (Email, Error, ...)
    statuses: list[str]  # the statuses seen while polling, in order

    @property
    def failed(self) -> bool:
        """Whether the job ended in Error or Abort."""
        return self.status in settings.JOB_FAILED

    def raise_if_failed(self) -> JobResult:
        """This result, unless the job ended in Error or Abort: then MailjetJobFailed."""
        if self.failed:
            raise MailjetJobFailed(
                f"job {self.job_id} ended {self.status}: {self.job.get('Error') or 'no detail'} "
                f"({len(self.errors)} contact(s) in its error report)"
            )
        return self


class MailjetHttp:
    """The one client of a Mailjet account (or the sandbox) at `base_url`: reads and writes (GET, POST,
    PUT, DELETE), dlt REST clients for paging (`rest()`), and bulk jobs (`start_job`, `wait_for_job`).

    Every request, read or write, is retried on 429 (HTML body, no Retry-After), 5xx, timeouts and dropped
    connections with jittered exponential backoff (dlt's retry conditions on a tenacity policy), up to
    `max_attempts` attempts, each bounded as a whole by `timeout` (WholeRequestAdapter). All requests wait
    for one client-side rate limit and are tallied in one `stats` (requests sent, retries by reason).
    Each thread gets its own session; all share one connection pool holding a connection for every
    thread that can be in a request at once (`concurrency` per page reader of an extract), so no
    connection is discarded. Failures are raised as classified MailjetErrors (`exceptions.py`).

    Retried writes: a write whose connection dropped or timed out may have been applied before its answer
    was lost; it is sent again. That is safe for
    - `POST contactslist/{id}/managemanycontacts` and `POST contact/managemanycontacts`: Mailjet's bulk jobs
      are idempotent per contact (keyed by email; a resubmitted job applies the same action again and never
      duplicates a contact or a membership); `start_job` returns the JobID of the last submission;
    - `POST contact/{id}/managecontactslists` and `POST contactslist/{id}/managecontact` (the same actions);
    - `PUT` (it sets the fields given; a repeat changes nothing);
    - `DELETE`: a repeat of a delete that was applied answers 404 (MailjetNotFound): the object is gone.
    It is not safe for POSTs that create or send: `POST contact` answers `MJ18 ... already exists` the second
    time, `POST /v3.1/send` sends the messages again, `POST csvimport` imports the upload twice. Send those
    through a client made with `max_attempts=1`."""

    def __init__(self, base_url: str, auth: AuthConfigBase, http: HttpSettings) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.settings = http
        self.limiter = RateLimiter(http.requests_per_second)
        self.stats = HttpStats()
        # A connection per thread that can be in a request at once: dlt pulls every resource
        # round-robin, so all their page readers are active together, each with at most `concurrency`
        # threads in a request (its lanes, or its count workers, or the extract's own thread); writers
        # and job pollers fit the same budget. Connections are opened on demand; this only caps how many
        # are kept for reuse.
        self._adapter = WholeRequestAdapter(
            pool_connections=2, pool_maxsize=max(http.concurrency, 1) * settings.MAX_ACTIVE_READERS
        )
        self._local = threading.local()
        self._resolved = threading.Event()

    @classmethod
    def from_config(cls, config: MailjetConfiguration, max_attempts: int | None = None) -> MailjetHttp:
        """The client of the account `config` (`[mailjet]`) names, with its transport settings;
        `max_attempts` overrides the configured attempts (1 sends every request once)."""
        tuning = HttpSettings.from_config(config)
        if max_attempts is not None:
            tuning = replace(tuning, max_attempts=max_attempts)
        return cls(config.base_url, HttpBasicAuth(str(config.api_key), str(config.api_secret)), tuning)

    def with_auth(self, auth: AuthConfigBase) -> MailjetHttp:
        """The same account's client under other credentials (the SMS token), sharing the rate
        limit, the request counters and the connection pool."""
        other = MailjetHttp(self.base_url, auth, self.settings)
        other.limiter, other.stats, other._adapter = self.limiter, self.stats, self._adapter
        other._resolved = self._resolved
        return other

    def close(self) -> None:
        """Close the pooled connections (shared with the clients `with_auth` made)."""
        self._adapter.close()

    def rest(self) -> RESTClient:
        """This thread's dlt REST client (paging)."""
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
            self._resolve_once()
            self.limiter.wait()
            self.stats.sent(request.method or "", urlsplit(request.url or "").path)
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
            before_sleep=self._before_retry,
            reraise=True,
            # Out of attempts on a retryable status: hand back the last response to be classified.
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
        )
        session.send = policy.wraps(limited_send)  # type: ignore[method-assign]
        return session

    def _before_retry(self, state: RetryCallState) -> None:
        reason = _retry_reason(state)
        self.stats.retried(reason)
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        request = state.args[0] if state.args else None
        what = f"{request.method} {urlsplit(request.url or '').path}" if request is not None else "a request"
        log.info(
            "%s: %s; attempt %d of %d in %.1f s",
            what,
            reason,
            state.attempt_number + 1,
            self.settings.max_attempts,
            wait,
        )

    def _resolve_once(self) -> None:
        """Before the first request, look `base_url`'s host up: a name that does not resolve (a typo, no
        network) fails at once, instead of after every retry's backoff. Later lookups that fail are
        retried like any dropped connection (a network that blips)."""
        if self._resolved.is_set():
            return
        if requests.utils.get_environ_proxies(self.base_url):
            self._resolved.set()  # a proxy resolves the name, not this machine
            return
        parts = urlsplit(self.base_url)
        host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
        try:
            socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:  # UnicodeError: a name that cannot be one
            if isinstance(exc, socket.gaierror) and exc.errno not in UNKNOWN_NAME:
                return  # a resolver that failed for now (EAI_AGAIN): the request retries as usual
            why = exc.strerror if isinstance(exc, socket.gaierror) else "not a valid host name"
            raise MailjetHostUnknown(
                f"cannot resolve {host} ({why}): check MAILJET__BASE_URL (base_url under [mailjet]) or "
                "your network"
            ) from None
        except OSError:
            return  # not a name problem: the request says what is wrong
        self._resolved.set()

    @property
    def retrying(self) -> bool:
        """Whether a failed attempt is tried again (`max_attempts` above 1)."""
        return self.settings.max_attempts > 1

    def send(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """One request to `path` (starting with '/') under `base_url`, retried as the class says; the
        successful response, or a classified MailjetError."""
        if not path.startswith("/"):
            raise ValueError(f"{path!r} is not a path under the API root: it must start with '/'")
        try:
            # The URL is built here, never taken from the caller: credentials only go to base_url.
            response = self.rest().request(
                f"{self.base_url}{path}",
                method=method,  # type: ignore[arg-type]  # any method Mailjet takes
                params=dict(params) if params is not None else None,
                json=json,
                data=data,
                headers=dict(headers) if headers is not None else None,
            )
        except requests.RequestException as exc:
            raise classify(exc, path, method, self.retrying) from exc
        failure = status_error(method, path, response, retried=self.retrying)
        if failure is not None:
            raise failure
        return response

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """`send`, decoded: the JSON answer, or None when Mailjet sends no content (204, 304)."""
        response = self.send(method, path, params=params, json=json, data=data, headers=headers)
        if not response.content:
            return None
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            pass  # orjson holds integers of up to 64 bits; the stdlib parser takes any
        try:
            return _json.loads(response.content)
        except (ValueError, RecursionError) as exc:
            raise MailjetServerError(f"{method} {path}: response is not JSON", response.status_code) from exc

    def get_json(self, path: str, params: Mapping[str, Any]) -> Any:
        """One GET, decoded; failures raised as classified MailjetErrors."""
        return self.request("GET", path, params=params)

    def get(self, resource: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """GET /v3/REST/<resource>: the `Data` rows."""
        path = f"{settings.REST_PREFIX}/{resource}"
        return self._rows("GET", path, self.request("GET", path, params=params))

    def post(self, resource: str, payload: Any) -> list[dict[str, Any]]:
        """POST /v3/REST/<resource>: the `Data` rows."""
        path = f"{settings.REST_PREFIX}/{resource}"
        return self._rows("POST", path, self.request("POST", path, json=payload))

    def put(self, resource: str, payload: Any) -> list[dict[str, Any]]:
        """PUT /v3/REST/<resource>: the `Data` rows (none when Mailjet answers 304: nothing changed)."""
        path = f"{settings.REST_PREFIX}/{resource}"
        body = self.request("PUT", path, json=payload)
        return [] if body is None else self._rows("PUT", path, body)

    def delete(self, resource: str) -> None:
        """DELETE /v3/REST/<resource>."""
        self.request("DELETE", f"{settings.REST_PREFIX}/{resource}")

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
        text = _json.dumps(body, ensure_ascii=False)
        shown = text if len(text) <= 120 else f"{text[:120]}..."
        return MailjetUnexpectedAnswer(
            f"unexpected answer from {self.base_url}: {method} {path} answered {shown}, where Mailjet "
            f"answers an object with {wanted}. Is [mailjet] base_url (MAILJET__BASE_URL) Mailjet's API?"
        )

    def start_job(self, resource: str, payload: Any) -> int:
        """POST an async job under /v3/REST (`contactslist/{id}/managemanycontacts`,
        `contact/managemanycontacts`, `csvimport`); its JobID (a CSV import's `ID`)."""
        rows = self.post(resource, payload)
        first = rows[0] if rows and isinstance(rows[0], dict) else {}
        job_id = first.get("JobID", first.get("ID"))
        if isinstance(job_id, bool) or not isinstance(job_id, int):
            path = f"{settings.REST_PREFIX}/{resource}"
            raise self._unexpected("POST", path, {"Data": rows}, "Data: one row with the JobID")
        return job_id

    def wait_for_job(
        self,
        resource: str,
        job_id: int,
        timeout: float = settings.JOB_TIMEOUT_SECONDS,
        first_poll: float = settings.JOB_FIRST_POLL_SECONDS,
        max_poll: float = settings.JOB_MAX_POLL_SECONDS,
    ) -> JobResult:
        """Poll `GET /v3/REST/<resource>/<job_id>` until the job ends and return how it ended: its final
        status object and its per-contact error report, which a `Completed` job can have too (contacts
        Mailjet refused, such as invalid addresses); `Error` and `Abort` return as well (see
        `JobResult.failed` and `raise_if_failed`). Polls wait `first_poll` seconds, then twice as long
        each time (with jitter) up to `max_poll`; each poll is a request retried as the class says.
        Raises MailjetJobTimeout when the job is still running `timeout` seconds after polling began (the
        last poll is made at that deadline)."""
        path = f"{resource}/{job_id}"
        seen: list[str] = []

        def poll() -> dict[str, Any]:
            rows = self.get(path)
            if not rows or not isinstance(rows[0], dict):
                full = f"{settings.REST_PREFIX}/{path}"
                raise self._unexpected("GET", full, {"Data": rows}, "Data: the job's status object")
            status = str(rows[0].get("Status"))
            if not seen or seen[-1] != status:
                seen.append(status)
            return rows[0]

        def running(job: dict[str, Any]) -> bool:
            return str(job.get("Status")) not in settings.JOB_DONE | settings.JOB_FAILED

        deadline = time.monotonic() + timeout
        backoff = wait_exponential_jitter(multiplier=first_poll, max=max_poll, jitter=first_poll)

        def wait(state: RetryCallState) -> float:
            return max(0.0, min(backoff(state), deadline - time.monotonic()))  # never past the deadline

        def timed_out(state: RetryCallState) -> NoReturn:
            raise MailjetJobTimeout(
                f"job {job_id} is still {seen[-1] if seen else 'pending'} after {timeout:g} s of polling "
                f"GET {settings.REST_PREFIX}/{path}; Mailjet may still finish it: look again later "
                f"(mailjet-elt api GET {path}), or allow the job longer"
            )

        job: dict[str, Any] = Retrying(
            retry=retry_if_result(running),
            wait=wait,
            stop=lambda state: time.monotonic() >= deadline,
            retry_error_callback=timed_out,
        )(poll)
        errors = self.job_errors(resource, job_id) if _has_error_report(job) else []
        return JobResult(job_id, str(job.get("Status")), job, errors, seen)

    def job_errors(self, resource: str, job_id: int) -> list[dict[str, Any]]:
        """A job's error report, one row per contact in error: the JSON report of a bulk subscription job
        (`GET /v3/DATA/batchjob/<id>/JSONError/application:json/LAST`), or the CSV report of a CSV import
        (`.../CSVError/text:csv`: the rows in error with an `error` column). Read from `base_url`, never
        from the URL in the job's `ErrorFile`, so the credentials go nowhere else."""
        if resource.lower().startswith(settings.CSV_IMPORT_RESOURCE):
            path = settings.DATA_PREFIX + settings.JOB_CSV_ERRORS.format(job_id=job_id)
            text = self.send("GET", path).content.decode("utf-8-sig", errors="replace")
            return [dict(row) for row in csv.DictReader(io.StringIO(text))]
        path = settings.DATA_PREFIX + settings.JOB_JSON_ERRORS.format(job_id=job_id)
        body = self.request("GET", path)
        # The report's shape is not documented (mailjet-api.md §5): take the rows under `Errors` or `Data`,
        # or a bare list of them.
        rows = body.get("Errors", body.get("Data")) if isinstance(body, dict) else body
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise self._unexpected("GET", path, body, "Errors: a list of the contacts in error")
        return rows


def _has_error_report(job: Mapping[str, Any]) -> bool:
    """Whether a job's final status names an error report (`ErrorFile`, or an `Errcount` above 0)."""
    errcount = job.get("Errcount")
    return bool(job.get("ErrorFile")) or (isinstance(errcount, int) and errcount > 0)


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


def _reason(exc: BaseException) -> str:
    """The innermost operating-system reason of a transport failure ('Connection refused'), else its text."""
    seen: BaseException | None = exc
    for _ in range(20):  # the chain is short; the bound only guards against a cycle
        if seen is None:
            break
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror
        cause = seen.__cause__ or seen.__context__
        reason = getattr(seen.args[0], "reason", None) if seen.args else None  # urllib3's MaxRetryError
        seen = cause if cause is not None else reason if isinstance(reason, BaseException) else None
    return str(exc)
