"""A small synchronous Mailjet REST client: Basic auth, JSON in and out, errors classified."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import requests

from sources.mailjet import settings
from sources.mailjet.exceptions import (
    MailjetAuthError,
    MailjetBadRequest,
    MailjetError,
    MailjetJobFailed,
    MailjetNotFound,
    MailjetRateLimited,
    MailjetServerError,
)


def _error_message(response: requests.Response) -> str:
    """Mailjet's ErrorMessage when the body is JSON, else the start of the body (429s send HTML)."""
    try:
        body = response.json()
    except ValueError:
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
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise MailjetServerError(
                f"{method} {path}: {type(exc).__name__} talking to {self.base_url}"
            ) from exc
        status = response.status_code
        if status in (401, 403):
            raise MailjetAuthError(
                f"{method} {path}: Mailjet refused the API key ({status}). Check MAILJET__API_KEY and "
                "MAILJET__API_SECRET (or [mailjet] in .dlt/secrets.toml).",
                status,
            )
        if status == 404:
            raise MailjetNotFound(f"{method} {path}: not found", status)
        if status == 429:
            raise MailjetRateLimited(f"{method} {path}: rate limited by Mailjet (429)", status)
        if status >= 500:
            raise MailjetServerError(f"{method} {path}: Mailjet server error {status}", status)
        if status >= 400:
            raise MailjetBadRequest(f"{method} {path}: {_error_message(response)}", status)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise MailjetServerError(f"{method} {path}: response is not JSON", status) from exc

    def get(self, resource: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """GET /v3/REST/<resource>: the `Data` rows."""
        body = self.request("GET", f"{settings.REST_PREFIX}/{resource}", params=params)
        return list(body["Data"])

    def post(self, resource: str, payload: Any) -> list[dict[str, Any]]:
        """POST /v3/REST/<resource>: the `Data` rows."""
        body = self.request("POST", f"{settings.REST_PREFIX}/{resource}", json=payload)
        return list(body["Data"])

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
