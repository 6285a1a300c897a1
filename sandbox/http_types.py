"""Request and reply values passed between the HTTP layer and the resource handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from sandbox.exceptions import BadRequest


@dataclass(slots=True)
class Request:
    """A parsed API request. `params` has lower-cased names, first occurrence wins."""

    method: str
    api: str
    namespace: str
    parts: list[str]
    params: dict[str, str]
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """The body as JSON; 400 with Mailjet's wording when it is not valid JSON."""
        if not self.body.strip():
            raise BadRequest("Invalid json input: empty request body")
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"Invalid json input: {exc.msg}") from exc

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object; 400 otherwise."""
        body = self.json()
        if not isinstance(body, dict):
            raise BadRequest('Invalid json input: expected an object ("{...}")')
        return body


@dataclass(slots=True)
class Reply:
    """What to answer: a JSON payload, or raw bytes with a content type."""

    status: int = 200
    payload: Any = None
    raw: bytes | None = None
    content_type: str = "application/json"

    def encode(self) -> bytes:
        """The response body."""
        if self.raw is not None:
            return self.raw
        if self.payload is None:
            return b""
        return orjson.dumps(self.payload)


def envelope(rows: list[Any], total: int | None = None, status: int = 200) -> Reply:
    """Mailjet's v3 envelope: Count = Total = rows on this page unless a total is given (countOnly)."""
    n = len(rows) if total is None else total
    return Reply(status=status, payload={"Count": n, "Data": rows, "Total": n})
