"""`mailjet-elt check --writes`: which reading of Mailjet's undocumented write behaviours the configured
account follows. Opt-in: it creates a scratch list, a property and a few `@example.com` contacts, sends
them bulk jobs, reads back, then deletes what the API can delete and says what is left."""

from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass
from datetime import UTC, datetime

from pipelines.check_writes.probes import Pacer, Probes, Scratch
from pipelines.check_writes.readings import BEHAVIOURS, Reading, read_all
from pipelines.errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, CommandError
from sources.mailjet.client import MailjetHttp
from sources.mailjet.config import resolve_mailjet_config
from sources.mailjet.exceptions import (
    MailjetAuthError,
    MailjetConfigError,
    MailjetError,
    MailjetNotFound,
    unreachable,
)

__all__ = ["BEHAVIOURS", "Pacer", "WritesCheckResult", "check_writes", "run_check_writes", "scratch_now"]
CONTACTS_NOTE = "Mailjet's v3 API cannot delete contacts (only the v4 GDPR delete anonymises them)"


@dataclass(frozen=True)
class WritesCheckResult:
    """The readings of one write check, what it cleaned up and what it left behind."""

    base_url: str
    scratch_list: str
    readings: dict[str, Reading]
    cleaned: list[str]  # what was deleted again
    left_behind: list[str]  # what stays in the account, each named
    note: str  # why contacts stay
    failed: str | None  # the probe that failed midway, and why
    requests: int

    @property
    def exit_code(self) -> int:
        return EXIT_FAILURE if self.failed else EXIT_OK


def scratch_now() -> Scratch:
    """Names no other run takes: the UTC time and a random suffix."""
    return Scratch(f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}")


def plan_text(base_url: str, scratch: Scratch) -> str:
    """What the check will create, and where (never the credentials)."""
    return (
        f"check --writes creates on the Mailjet account at {base_url}: the list {scratch.list_name}, the "
        f"int contact property {scratch.property_name} and up to 6 contacts "
        f"{scratch.email('*')}; it sends them 7 bulk jobs, then deletes the list and the property. The "
        f"contacts stay: {CONTACTS_NOTE}."
    )


def run_check_writes(yes: bool, pacer: Pacer | None = None) -> WritesCheckResult:
    """The CLI's flow: the configured account, asked about first unless `yes`."""
    try:
        config = resolve_mailjet_config()
    except MailjetConfigError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    scratch = scratch_now()
    # Each request is sent once: creating a list or a property twice is refused as a duplicate.
    http = MailjetHttp.from_config(config, max_attempts=1)
    try:
        if not yes:
            _ask(plan_text(http.base_url, scratch))
        return check_writes(http, pacer or Pacer(), scratch)
    except MailjetAuthError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    except MailjetError as exc:
        detail = f"cannot reach Mailjet at {http.base_url}: {exc}" if unreachable(exc) else str(exc)
        raise CommandError(f"{detail}; nothing was created", EXIT_FAILURE) from None
    finally:
        http.close()


def _ask(question: str) -> None:
    if not sys.stdin.isatty():
        raise CommandError(
            f"{question} There is no terminal to ask: pass --yes to run it without asking", EXIT_USAGE
        )
    if input(f"{question} Go on? [y/N] ").strip().lower() not in ("y", "yes"):
        raise CommandError("nothing was created (not confirmed)", EXIT_USAGE)


def check_writes(http: MailjetHttp, pacer: Pacer, scratch: Scratch) -> WritesCheckResult:
    """Run the probes against `http`'s account, clean up whatever happens, and read the readings. A
    refused key before anything was created raises MailjetAuthError; a failure midway is the result's
    `failed` (exit 1)."""
    probes = Probes(http, pacer, scratch)
    failed: str | None = None
    try:
        probes.run()
    except MailjetAuthError:
        if probes.made.list_id is None:
            raise
        failed = f"{probes.step}: Mailjet refused the API key"
    except MailjetError as exc:
        if probes.made.list_id is None and probes.step == "setup":
            raise
        failed = f"{probes.step}: {exc}"
    finally:
        cleaned, left = cleanup(probes)
    return WritesCheckResult(
        base_url=http.base_url,
        scratch_list=scratch.list_name,
        readings=read_all(probes.seen, failed),
        cleaned=cleaned,
        left_behind=left,
        note=CONTACTS_NOTE,
        failed=failed,
        requests=http.stats.requests,
    )


def cleanup(probes: Probes) -> tuple[list[str], list[str]]:
    """Delete the scratch list and property; (what was deleted, what is left, each named)."""
    http, made, scratch = probes.http, probes.made, probes.scratch
    cleaned: list[str] = []
    left: list[str] = []
    for what, resource, key in (
        (f"list {scratch.list_name}", "contactslist", made.list_id),
        (f"contact property {probes.prop}", "contactmetadata", made.property_id),
    ):
        if key is None:
            continue
        try:
            http.delete(f"{resource}/{key}")
            cleaned.append(f"{what} (ID {key}) deleted")
        except MailjetError as exc:
            left.append(f"{what} (ID {key}): the delete failed ({exc}); delete it by hand")
    for email in made.emails:
        try:
            http.get(f"contact/{email}")
        except MailjetNotFound:
            continue
        except MailjetError:
            pass  # not known to be absent: named as left
        left.append(f"contact {email}")
    return cleaned, left
