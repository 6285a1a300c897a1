"""The Mailjet client: one class for reads, writes, paging and bulk jobs over the transport of
`transport.py` (a retrying, rate-limited, counted HTTP layer whose timeout bounds each whole request);
bulk jobs in `jobs.py`; errors classified."""

from __future__ import annotations

import json as _json
import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import orjson
import requests
from dlt.sources.helpers.requests.session import Session
from dlt.sources.helpers.rest_client.auth import AuthConfigBase, HttpBasicAuth
from dlt.sources.helpers.rest_client.client import RESTClient
from tenacity import RetryCallState

from sources.mailjet import jobs, settings
from sources.mailjet.config import MailjetConfiguration
from sources.mailjet.exceptions import (
    MailjetHostUnknown,
    MailjetServerError,
    MailjetUnexpectedAnswer,
    MailjetUnreachable,
)
from sources.mailjet.jobs import JobResult
from sources.mailjet.transport import (
    HttpSettings,
    HttpStats,
    OrjsonRESTClient,
    RateLimiter,
    WholeRequestAdapter,
    classify,
    refused,
    retry_policy,
    retry_reason,
    status_error,
)

# The names callers import from here; the transport's and the jobs' live in their own modules.
__all__ = ["HttpSettings", "JobResult", "MailjetHttp", "classify", "status_error"]

log = logging.getLogger(__name__)
# getaddrinfo's answers that mean the name does not exist (not that the resolver failed for now).
UNKNOWN_NAME = {socket.EAI_NONAME, *((socket.EAI_NODATA,) if hasattr(socket, "EAI_NODATA") else ())}


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
        self._answered = threading.Event()  # any request got an answer: a refusal from then on is a blip

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
        other._answered = self._answered
        return other

    def close(self) -> None:
        """Close the pooled connections (shared with the clients `with_auth` made)."""
        self._adapter.close()

    def rest(self) -> RESTClient:
        """This thread's dlt REST client (paging)."""
        client: RESTClient | None = getattr(self._local, "client", None)
        if client is None:
            client = OrjsonRESTClient(
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
            url = urlsplit(request.url or "")
            self.stats.sent(request.method or "", url.path)
            began = time.monotonic()
            try:
                response = send(request, **kwargs)
            except requests.ConnectionError as exc:
                self._refused_at_once(exc)
                raise
            self._answered.set()
            # -vv: every request (the credentials travel in a header, never in the URL).
            log.debug(
                "%s %s%s: %s in %.3f s",
                request.method,
                url.path,
                f"?{url.query}" if url.query else "",
                response.status_code,
                time.monotonic() - began,
            )
            return response

        policy = retry_policy(self.settings, self._before_retry)
        session.send = policy.wraps(limited_send)  # type: ignore[method-assign]
        return session

    def _before_retry(self, state: RetryCallState) -> None:
        reason = retry_reason(state)
        self.stats.retried(reason)
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        request = state.args[0] if state.args else None
        what = f"{request.method} {urlsplit(request.url or '').path}" if request is not None else "a request"
        log.warning(  # one line per retry, at default verbosity: a schedule's log shows each
            "%s: %s; attempt %d of %d in %.1f s",
            what,
            reason,
            state.attempt_number + 1,
            self.settings.max_attempts,
            wait,
        )

    def _refused_at_once(self, exc: requests.ConnectionError) -> None:
        """Raise MailjetUnreachable when the connection was refused before anything ever answered (a wrong
        port, a server not started), instead of retrying it for minutes; once something answered, or
        through a proxy, the request is retried as usual."""
        if self._answered.is_set() or not refused(exc) or requests.utils.get_environ_proxies(self.base_url):
            return
        parts = urlsplit(self.base_url)
        host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
        raise MailjetUnreachable(
            f"nothing answers at {host}:{port} (connection refused): check MAILJET__BASE_URL (base_url under "
            "[mailjet]), or start the server it names"
        ) from None

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
            raise self.unexpected("GET", f"{path}?countOnly=1", body, "Total: a count of 0 or more")
        return total

    def _rows(self, method: str, path: str, body: Any) -> list[dict[str, Any]]:
        """The `Data` list of Mailjet's envelope."""
        rows = body.get("Data") if isinstance(body, dict) else None
        if not isinstance(rows, list):
            raise self.unexpected(method, path, body, "Data: a list of rows")
        return rows

    def unexpected(self, method: str, path: str, body: Any, wanted: str) -> MailjetUnexpectedAnswer:
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
        return jobs.start_job(self, resource, payload)

    def wait_for_job(
        self,
        resource: str,
        job_id: int,
        timeout: float = settings.JOB_TIMEOUT_SECONDS,
        first_poll: float | None = None,
        max_poll: float = settings.JOB_MAX_POLL_SECONDS,
        report: bool = True,
    ) -> JobResult:
        """Poll `GET /v3/REST/<resource>/<job_id>` until the job ends and return how it ended: its final
        status object and its per-contact error report, which a `Completed` job can have too (contacts
        Mailjet refused, such as invalid addresses); `Error` and `Abort` return as well (see
        `JobResult.failed` and `raise_if_failed`). Polls wait `first_poll` seconds (default: `[mailjet]
        job_poll_seconds`), then twice as long
        each time (with jitter) up to `max_poll`; each poll is a request retried as the class says.
        Raises MailjetJobTimeout when the job is still running `timeout` seconds after polling began (the
        last poll is made at that deadline). Without `report`, the error report is left to the caller
        (`errors` is empty)."""
        first = self.settings.job_poll_seconds if first_poll is None else first_poll
        return jobs.wait_for_job(self, resource, job_id, timeout, first, max_poll, report)

    def job_errors(self, resource: str, job_id: int) -> list[dict[str, Any]]:
        """A job's error report, one row per contact in error: the JSON report of a bulk subscription job
        (`GET /v3/DATA/batchjob/<id>/JSONError/application:json/LAST`), or the CSV report of a CSV import
        (`.../CSVError/text:csv`: the rows in error with an `error` column). Read from `base_url`, never
        from the URL in the job's `ErrorFile`, so the credentials go nowhere else."""
        return jobs.job_errors(self, resource, job_id)
