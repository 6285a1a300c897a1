"""Pointing Mailjet's Event API at the receiver, idempotently (`mailjet-elt webhooks register URL`).

For each event type, the primary callback (`/eventcallbackurl`, `IsBackup` false) is created, or updated
when its URL, version or status differ, or left as it is; a backup callback is never touched. The URL
carries the receiver's credentials (Mailjet sends them as Basic auth): when it has none, those of
`[mailjet.webhooks]` are put in it. What is printed never shows the password."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from sources.mailjet.client import MailjetHttp
from sources.mailjet_webhooks.config import resolve_webhooks_config
from sources.mailjet_webhooks.exceptions import WebhooksConfigError

EVENT_TYPES = ("sent", "open", "click", "bounce", "spam", "blocked", "unsub")


@dataclass(frozen=True)
class Registration:
    event: str
    url: str  # the password masked
    version: int
    status: str
    action: str  # created | updated | unchanged


def masked(url: str) -> str:
    """`url` with its password (if any) shown as ***."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = f"{parts.username}:***@{_host(parts.hostname)}" + (f":{parts.port}" if parts.port else "")
    except ValueError:
        return "(a URL that cannot be read)"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _host(name: str | None) -> str:
    """A host name as it goes in a URL (an IPv6 address in brackets)."""
    return f"[{name}]" if name and ":" in name else name or ""


def scrub(text: str, url: str) -> str:
    """`text` without the password of `url` (as given and URL-encoded)."""
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    for secret in filter(None, {password, quote(password or "", safe="")}):
        text = text.replace(str(secret), "***")
    return text


def with_credentials(url: str) -> str:
    """`url` as Mailjet must call it: with credentials, its own or `[mailjet.webhooks]`'s.
    WebhooksConfigError for a URL that is not http(s), or when there are none."""
    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        usable = False
    if not usable:
        raise WebhooksConfigError(
            f"{masked(url)!r} is not an http(s) URL: give the receiver's public URL, such as "
            "https://hooks.example.com/events",
        )
    if parts.username and parts.password:
        return url
    if parts.username:
        raise WebhooksConfigError(
            f"{masked(url)}: a user name without a password; give both in the URL, or neither (then the "
            "[mailjet.webhooks] credentials are used)",
        )
    config = resolve_webhooks_config()  # exit 2, naming the settings, when they are missing
    user, password = quote(str(config.username), safe=""), quote(str(config.password), safe="")
    netloc = f"{user}:{password}@{_host(parts.hostname)}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def chosen_events(events: list[str] | None, version: int) -> list[str]:
    """The event types to register (default: every type); WebhooksConfigError for an unknown one or an
    Event API version Mailjet does not have."""
    chosen = events or list(EVENT_TYPES)
    unknown = [e for e in chosen if e not in EVENT_TYPES]
    if unknown:
        raise WebhooksConfigError(
            f"--events: no event type {', '.join(unknown)}; choose among {', '.join(EVENT_TYPES)}"
        )
    if version not in (1, 2):
        raise WebhooksConfigError(f"--version {version}: Mailjet's Event API has versions 1 and 2")
    return chosen


def register_callbacks(
    http: MailjetHttp, target: str, chosen: list[str], version: int, done: list[Registration]
) -> None:
    """Create or update the primary callback of each event type in `chosen` to `target`, appending each
    to `done` as it is made (so that a MailjetError midway leaves what was registered)."""
    existing = {
        str(row["EventType"]): row
        for row in http.get("eventcallbackurl", {"Limit": 1000})
        if not row.get("IsBackup")
    }
    for event in chosen:
        row = existing.get(event)
        if row is None:
            made = http.post(
                "eventcallbackurl",
                {"EventType": event, "Url": target, "Version": version, "IsBackup": False, "Status": "alive"},
            )[0]
            action = "created"
        elif row.get("Url") == target and row.get("Version") == version and row.get("Status") == "alive":
            made, action = row, "unchanged"
        else:
            change = {"Url": target, "Version": version, "Status": "alive"}
            answer = http.put(f"eventcallbackurl/{row['ID']}", change)
            made, action = (answer[0] if answer else {**row, **change}), "updated"
        done.append(
            Registration(
                event,
                masked(str(made.get("Url", target))),
                int(made.get("Version") or version),
                str(made.get("Status") or "alive"),
                action,
            )
        )
