"""`mailjet-elt check` and `mailjet-elt api`: reachability and raw authorized calls."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pipelines.errors import EXIT_FAILURE, EXIT_USAGE, CommandError
from sources.mailjet.client import MailjetHttp
from sources.mailjet.config import resolve_mailjet_config
from sources.mailjet.exceptions import MailjetAuthError, MailjetConfigError, MailjetError, unreachable

T = TypeVar("T")


@dataclass(frozen=True)
class CheckResult:
    """Mailjet answered: the account the key sees."""

    base_url: str
    contacts: int
    lists: int


@dataclass(frozen=True)
class ApiResult:
    """The decoded JSON answer of one call (None when Mailjet sent no content)."""

    answer: Any


def _with_client(work: Callable[[MailjetHttp], T]) -> T:
    """Run `work` with the client `[mailjet]` configures; failures become CommandErrors: missing or refused
    credentials exit 2, anything else that went wrong talking to Mailjet 1."""
    try:
        config = resolve_mailjet_config()
    except MailjetConfigError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    # Each request is sent once: `check` reports what Mailjet answers now, and `api` never sends a write
    # twice (a retried `POST /v3.1/send` would send its messages again).
    client = MailjetHttp.from_config(config, max_attempts=1)
    try:
        return work(client)
    except MailjetAuthError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    except MailjetError as exc:
        detail = f"cannot reach Mailjet at {client.base_url}: {exc}" if unreachable(exc) else str(exc)
        raise CommandError(detail, EXIT_FAILURE) from None
    finally:
        client.close()


def run_check() -> CheckResult:
    """Verify credentials and reachability: counts contacts and lists."""
    return _with_client(
        lambda client: CheckResult(client.base_url, client.count("contact"), client.count("contactslist"))
    )


def parse_params(pairs: Sequence[str]) -> dict[str, str]:
    """`k=v` strings to a dict; raises ValueError naming a malformed one."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"--param {pair!r}: expected NAME=VALUE")
        out[name] = value
    return out


def parse_data(data: str) -> Any:
    """`--data` as a JSON body Mailjet can take; raises ValueError saying what is wrong with it."""

    def no_constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON (numbers must be finite)")

    def finite(text: str) -> float:
        number = float(text)
        if not math.isfinite(number):
            raise ValueError(f"{text} is out of range (numbers must be finite)")
        return number

    try:
        return json.loads(data, parse_constant=no_constant, parse_float=finite)
    except RecursionError:
        raise ValueError("--data is not valid JSON for Mailjet: nested too deep") from None
    except ValueError as exc:  # json.JSONDecodeError, or a number Python cannot hold
        raise ValueError(f"--data is not valid JSON for Mailjet: {exc}") from None


def run_api(*, method: str, path: str, data: str | None = None, params: Sequence[str] = ()) -> ApiResult:
    """One authorized call; its JSON answer (Mailjet's error raises CommandError)."""
    try:
        query = parse_params(params)
        body: Any = parse_data(data) if data is not None else None
    except ValueError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    full_path = path if path.startswith("/") else f"/v3/REST/{path}"
    return _with_client(
        lambda client: ApiResult(client.request(method.upper(), full_path, params=query, json=body))
    )
