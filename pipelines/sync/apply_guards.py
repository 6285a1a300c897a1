"""The guards an apply checks before sending (design §7.4): a plan made from data older than the newest
extract is never sent, nor one made from data extracted before another apply changed its list (it does
not show that apply's changes and would send them again); a plan a guard stopped is sent only with
--force. Pure: runs in, GuardStop out. Every stop names what clears it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pipelines.errors import EXIT_GUARD, CommandError
from pipelines.sync.runs import PendingRun, stale, stale_for_list


class GuardStop(CommandError):
    """A guard stopped the apply (exit 3)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_GUARD)


def check_guards(
    runs: Sequence[PendingRun], newest: datetime | None, force: bool, forcing: str = "apply --force"
) -> None:
    """GuardStop when a run must not be sent: a guard stopped it (unless `force`; `forcing` is the command
    that sends it anyway), or its data is older than the newest extract or than another apply to its list
    (never)."""
    old = [r for r in runs if stale(r.data_as_of, newest)]
    if old:
        raise GuardStop(
            f"the plan of {', '.join(r.audience for r in old)} read Mailjet data older than the newest "
            "extract; "
            "a plan is only sent on the data it was made from: run `mailjet-elt plan` again, then apply"
        )
    overtaken = [r for r in runs if stale_for_list(r.data_as_of, r.list_applied_at)]
    if overtaken:
        said = "; ".join(
            f"{r.audience} (data extracted {_at(r.data_as_of)}, list {r.list_name or r.list_ref} changed by "
            f"an apply that ended {_at(r.list_applied_at)})"
            for r in overtaken
        )
        raise GuardStop(
            f"the plan of {said} read Mailjet data from before another apply changed its list, and would "
            "send those changes again. Nothing was sent: run `mailjet-elt run` (or `extract`, `plan`, then "
            "`apply`)"
        )
    stopped = [r for r in runs if r.guard == "stop" and r.status == "planned"]
    unforceable = "; ".join(
        f"{r.audience}: {g['name']} ({g['detail']})"
        for r in stopped
        for g in json.loads(r.guard_detail)
        if g["verdict"] == "stop" and not _forceable(g, r)
    )
    if unforceable:
        raise GuardStop(f"stopped by a guard that --force does not pass: {unforceable}. Nothing was sent")
    if stopped and not force:
        said = "; ".join(
            f"{r.audience}: "
            + ", ".join(
                f"{g['name']} ({g['detail']})" for g in json.loads(r.guard_detail) if g["verdict"] == "stop"
            )
            for r in stopped
        )
        raise GuardStop(f"stopped by a guard: {said}. Nothing was sent; to send it anyway, {forcing}")


def _forceable(guard: dict[str, Any], run: PendingRun) -> bool:
    """Whether --force may pass a guard's stop. A plan written before the verdicts said so is judged as
    today's guards judge: memberships of unknown contacts, or no Mailjet data at all, never."""
    if "forceable" in guard:
        return bool(guard["forceable"])
    return not (
        guard["name"] == "unmatched_members" or (guard["name"] == "data_age" and run.data_as_of is None)
    )


def _at(when: datetime | None) -> str:
    return "never" if when is None else when.isoformat(timespec="seconds")
