"""Errors the stand-in answers with, each carrying Mailjet's status code and error body."""

from __future__ import annotations

import uuid
from typing import Any


class ApiError(Exception):
    """An error answered to the client in the v3 REST shape `{ErrorInfo, ErrorMessage, StatusCode}`."""

    status = 400

    def __init__(self, message: Any, info: Any = "", status: int | None = None) -> None:
        super().__init__(message if isinstance(message, str) else "invalid request")
        self.message = message
        self.info = info
        if status is not None:
            self.status = status

    def body(self) -> dict[str, Any]:
        """The JSON body Mailjet sends for this error."""
        body: dict[str, Any] = {
            "ErrorInfo": self.info,
            "ErrorMessage": self.message,
            "StatusCode": self.status,
        }
        if self.status >= 500:
            body["ErrorIdentifier"] = str(uuid.uuid4())
        return body


class BadRequest(ApiError):
    """400: bad, missing or misspelled parameters; validation failures."""

    status = 400


class Unauthorized(ApiError):
    """401: missing or wrong credentials."""

    status = 401


class NotFound(ApiError):
    """404: the addressed object does not exist."""

    status = 404

    def __init__(self, message: str = "Object not found") -> None:
        super().__init__(message)


class MethodNotAllowed(ApiError):
    """405: the resource does not support this method."""

    status = 405

    def __init__(self, method: str, resource: str) -> None:
        super().__init__(f'Method "{method}" not allowed on resource "{resource}"')


class NotModified(ApiError):
    """304: a PUT that changed nothing; answered without a body."""

    status = 304

    def __init__(self) -> None:
        super().__init__("")


class V31Error(ApiError):
    """An error in the v3.1 send / v4 shape `{ErrorIdentifier, ErrorCode, StatusCode, ErrorMessage}`."""

    def __init__(self, code: str, message: str, status: int = 400, related: list[str] | None = None) -> None:
        super().__init__(message, status=status)
        self.code = code
        self.related = related or []

    def body(self) -> dict[str, Any]:
        """The JSON body of a v3.1 / v4 error."""
        body: dict[str, Any] = {
            "ErrorIdentifier": str(uuid.uuid4()),
            "ErrorCode": self.code,
            "StatusCode": self.status,
            "ErrorMessage": self.message,
        }
        if self.related:
            body["ErrorRelatedTo"] = self.related
        return body


class SandboxConfigError(ValueError):
    """A bad sandbox option (fault spec, size), reported to whoever started the sandbox."""
