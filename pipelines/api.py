"""`mailjet-elt check` and `mailjet-elt api`: reachability and raw authorized calls."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from pipelines.config import ConfigError, load_mailjet_config
from sources.mailjet.client import MailjetClient
from sources.mailjet.exceptions import MailjetAuthError, MailjetError

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def _client() -> MailjetClient:
    config = load_mailjet_config()
    return MailjetClient(config.base_url, str(config.api_key), str(config.api_secret))


def run_check() -> int:
    """Verify credentials and reachability: counts contacts and lists."""
    try:
        client = _client()
    except ConfigError as exc:
        print(f"mailjet-elt check: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        contacts = client.request("GET", "/v3/REST/contact", params={"countOnly": 1})["Total"]
        lists = client.request("GET", "/v3/REST/contactslist", params={"countOnly": 1})["Total"]
    except MailjetAuthError as exc:
        print(f"mailjet-elt check: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except MailjetError as exc:
        print(f"mailjet-elt check: cannot reach Mailjet at {client.base_url}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        client.close()
    print(f"OK: {client.base_url} answered; the key sees {contacts:,} contacts in {lists:,} lists.")
    return EXIT_OK


def parse_params(pairs: Sequence[str]) -> dict[str, str]:
    """`k=v` strings to a dict; raises ValueError naming a malformed one."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"--param {pair!r}: expected NAME=VALUE")
        out[name] = value
    return out


def run_api(method: str, path: str, data: str | None, params: Sequence[str]) -> int:
    """One authorized call; prints the JSON answer (or Mailjet's error) and exits accordingly."""
    try:
        query = parse_params(params)
        body: Any = json.loads(data) if data is not None else None
    except (ValueError, json.JSONDecodeError) as exc:
        print(f"mailjet-elt api: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not path.startswith("/"):
        path = f"/v3/REST/{path}"
    try:
        client = _client()
    except ConfigError as exc:
        print(f"mailjet-elt api: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        answer = client.request(method.upper(), path, params=query, json=body)
    except MailjetAuthError as exc:
        print(f"mailjet-elt api: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except MailjetError as exc:
        print(f"mailjet-elt api: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        client.close()
    print(json.dumps(answer, indent=2, ensure_ascii=False) if answer is not None else "(no content)")
    return EXIT_OK
