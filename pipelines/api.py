"""`mailjet-elt check` and `mailjet-elt api`: reachability and raw authorized calls."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Sequence
from typing import Any

from pipelines.config import ConfigError, load_mailjet_config
from pipelines.errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from sources.mailjet.client import MailjetClient
from sources.mailjet.exceptions import MailjetAuthError, MailjetError


def _with_client(command: str, work: Callable[[MailjetClient], str]) -> int:
    """Run `work` with a configured client, print its result, and map failures to exit codes:
    missing or refused credentials 2, anything else that went wrong talking to Mailjet 1."""
    try:
        config = load_mailjet_config()
    except ConfigError as exc:
        print(f"mailjet-elt {command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    client = MailjetClient(
        config.base_url, str(config.api_key), str(config.api_secret), timeout=config.timeout_seconds
    )
    try:
        print(work(client))
    except MailjetAuthError as exc:
        print(f"mailjet-elt {command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except MailjetError as exc:
        detail = f"cannot reach Mailjet at {client.base_url}: {exc}" if exc.transient else str(exc)
        print(f"mailjet-elt {command}: {detail}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        client.close()
    return EXIT_OK


def run_check() -> int:
    """Verify credentials and reachability: counts contacts and lists."""

    def check(client: MailjetClient) -> str:
        contacts = client.count("contact")
        lists = client.count("contactslist")
        return f"OK: {client.base_url} answered; the key sees {contacts:,} contacts in {lists:,} lists."

    return _with_client("check", check)


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


def run_api(method: str, path: str, data: str | None, params: Sequence[str]) -> int:
    """One authorized call; prints the JSON answer (or Mailjet's error) and exits accordingly."""
    try:
        query = parse_params(params)
        body: Any = parse_data(data) if data is not None else None
    except ValueError as exc:
        print(f"mailjet-elt api: {exc}", file=sys.stderr)
        return EXIT_USAGE
    full_path = path if path.startswith("/") else f"/v3/REST/{path}"

    def call(client: MailjetClient) -> str:
        answer = client.request(method.upper(), full_path, params=query, json=body)
        return json.dumps(answer, indent=2, ensure_ascii=False) if answer is not None else "(no content)"

    return _with_client("api", call)
