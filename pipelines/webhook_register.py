"""`mailjet-elt webhooks register URL`: point Mailjet's Event API at the receiver, idempotently.

For each event type, the primary callback (`/eventcallbackurl`, `IsBackup` false) is created, or updated
when its URL, version or status differ, or left as it is; a backup callback is never touched. The URL
carries the receiver's credentials (Mailjet sends them as Basic auth): when it has none, those of
`[mailjet.webhooks]` are put in it. What is printed never shows the password."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from pipelines.config import ConfigError, load_mailjet_config
from pipelines.errors import EXIT_FAILURE, EXIT_USAGE, CommandError
from sources.mailjet.client import MailjetHttp
from sources.mailjet.exceptions import MailjetError

EVENT_TYPES = ("sent", "open", "click", "bounce", "spam", "blocked", "unsub")


@dataclass(frozen=True)
class Registration:
    event: str
    url: str  # the password masked
    version: int
    status: str
    action: str  # created | updated | unchanged


@dataclass(frozen=True)
class RegisterResult:
    registrations: list[Registration]
    requests: int


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


def _scrub(text: str, url: str) -> str:
    """`text` without the password of `url` (as given and URL-encoded)."""
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    for secret in filter(None, {password, quote(password or "", safe="")}):
        text = text.replace(str(secret), "***")
    return text


def with_credentials(url: str) -> str:
    """`url` as Mailjet must call it: with credentials, its own or `[mailjet.webhooks]`'s. CommandError
    (exit 2) for a URL that is not http(s), or when there are none."""
    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        usable = False
    if not usable:
        raise CommandError(
            f"{masked(url)!r} is not an http(s) URL: give the receiver's public URL, such as "
            "https://hooks.example.com/events",
            EXIT_USAGE,
        )
    if parts.username and parts.password:
        return url
    if parts.username:
        raise CommandError(
            f"{masked(url)}: a user name without a password; give both in the URL, or neither (then the "
            "[mailjet.webhooks] credentials are used)",
            EXIT_USAGE,
        )
    from pipelines.webhooks import resolve_webhooks_config

    config = resolve_webhooks_config()  # exit 2, naming the settings, when they are missing
    user, password = quote(str(config.username), safe=""), quote(str(config.password), safe="")
    netloc = f"{user}:{password}@{_host(parts.hostname)}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def register(url: str, events: list[str] | None = None, version: int = 2) -> RegisterResult:
    """Create or update the callbacks of `events` (default: every type) to `url`."""
    chosen = events or list(EVENT_TYPES)
    unknown = [e for e in chosen if e not in EVENT_TYPES]
    if unknown:
        raise CommandError(
            f"--events: no event type {', '.join(unknown)}; choose among {', '.join(EVENT_TYPES)}", EXIT_USAGE
        )
    if version not in (1, 2):
        raise CommandError(f"--version {version}: Mailjet's Event API has versions 1 and 2", EXIT_USAGE)
    target = with_credentials(url)
    try:
        config = load_mailjet_config()
    except ConfigError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    http = MailjetHttp.from_config(config)
    done: list[Registration] = []
    try:
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
                    {
                        "EventType": event,
                        "Url": target,
                        "Version": version,
                        "IsBackup": False,
                        "Status": "alive",
                    },
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
    except MailjetError as exc:
        raise CommandError(
            f"Mailjet refused ({_scrub(str(exc), target)}); {len(done)} of {len(chosen)} event types were "
            "registered; run the "
            "command again once fixed (it is safe to repeat)",
            EXIT_FAILURE,
        ) from None
    finally:
        http.close()
    return RegisterResult(done, http.stats.requests)
