"""The guards of a plan (design §7.4): plain rules over the figures of one audience run, no database.

- `empty_audience`: an audience without a usable row is held (nobody leaves it);
- `data_tests`: too large a share of rows failing the data tests is held the same way;
- `removal_share`: more unsubs and removals than `max_removal_pct` of the list's members stops apply,
  counting with the planned ones those applied within `removal_window_days` (cumulative: several small
  runs cannot remove together what one run may not);
- `update_share`: property updates for more than `max_update_pct` of the list's members stop apply;
- `data_age`: Mailjet data older than `max_data_age_hours` (or none at all) stops apply;
- `unmatched_members`: memberships naming a contact the extract did not list stop apply."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pipelines.sync.audiences import OnExit
from pipelines.sync.config import SyncConfiguration

# ok: nothing to say; held: the plan leaves something out (no exit is planned); stop: apply stops
# unless --force.
Verdict = Literal["ok", "held", "stop"]


@dataclass(frozen=True)
class Guard:
    """One guard's verdict: ok, held (the plan leaves something out) or stop (apply stops unless --force).
    A stop that is not `forceable` stops apply even with --force: the plan has nothing sound to go on
    (no Mailjet data at all, or members whose address, and so consent, is unknown)."""

    name: str
    verdict: Verdict
    detail: str
    forceable: bool = True


@dataclass(frozen=True)
class PlanFigures:
    """What the guards read of one audience run."""

    audience_rows: int
    rejected: int  # rows that failed a data test
    leaving: int  # planned unsubs and removals
    list_members: int  # subscribed members of the list
    on_exit: OnExit
    managed_kept: int  # members the audience added that stay because exits are held
    unmatched: int  # memberships naming a contact the extract did not list
    as_of: datetime | None  # when the Mailjet data was extracted
    removed_recently: int = 0  # unsubs and removals applied to the list within the removal window
    updates: int = 0  # planned property updates


def judge(figures: PlanFigures, config: SyncConfiguration, now: datetime) -> list[Guard]:
    """The guards' verdicts on a plan (design §7.4)."""
    return [
        empty_audience(figures),
        data_tests(figures, config.max_rejected_pct),
        removal_share(figures, config.max_removal_pct, config.removal_window_days),
        update_share(figures, config.max_update_pct),
        data_age(figures.as_of, config.max_data_age_hours, now),
        *unmatched_members(figures.unmatched),
    ]


def stopped(guards: list[Guard]) -> bool:
    """Whether apply stops (unless --force)."""
    return any(g.verdict == "stop" for g in guards)


def _kept(figures: PlanFigures) -> str:
    """What a held exit means for the members the audience added."""
    if figures.on_exit == "keep":
        return ""
    n = figures.managed_kept
    return (
        f": nobody leaves the list ({n:,} member{'' if n == 1 else 's'} it added stay{'s' if n == 1 else ''})"
    )


def empty_audience(figures: PlanFigures) -> Guard:
    """Held when no row of the audience is usable: an empty audience never removes anyone."""
    usable = figures.audience_rows - figures.rejected
    if usable == 0:
        what = (
            "the audience is empty"
            if figures.audience_rows == 0
            else "no row of the audience passed the data tests"
        )
        return Guard(
            "empty_audience", "held", f"{what}{_kept(figures)}; check its SQL and the tables it reads"
        )
    return Guard("empty_audience", "ok", f"{usable:,} usable rows")


def data_tests(figures: PlanFigures, limit: float) -> Guard:
    """Held when more than `limit` % of the rows failed the data tests."""
    failed, total = figures.rejected, figures.audience_rows
    share = 100.0 * failed / total if total else 0.0
    said = (
        f"{failed:,} of {total:,} rows failed the data tests ({share:.1f} %, limit {limit:g} % in [sync] "
        "max_rejected_pct)"
    )
    if total - failed > 0 and share > limit:
        return Guard("data_tests", "held", f"{said}{_kept(figures)}; fix them (mailjet_sync.sync_rejections)")
    return Guard("data_tests", "ok", said)


def removal_share(figures: PlanFigures, limit: float, window_days: float = 0.0) -> Guard:
    """Stop when the planned unsubs and removals, with those applied within the window, exceed `limit` %
    of the list's subscribed members before the window's removals (any, of none)."""
    recent = figures.removed_recently
    leaving, members = figures.leaving + recent, figures.list_members + recent
    share = 100.0 * leaving / members if members else (100.0 if leaving else 0.0)
    window = (
        f" ({figures.leaving:,} planned, {recent:,} applied in the last {window_days:g} days)"
        if recent
        else ""
    )
    said = (
        f"{leaving:,} of {members:,} subscribed members would leave the list (unsubscribed or "
        f"removed){window}: {share:.1f} %, limit {limit:g} % in [sync] max_removal_pct"
    )
    if share > limit:
        return Guard("removal_share", "stop", f"{said}: apply stops unless --force")
    return Guard("removal_share", "ok", said)


def update_share(figures: PlanFigures, limit: float) -> Guard:
    """Stop when property updates are planned for more than `limit` % of the list's subscribed members
    (any, of none): a mass rewrite of properties is a mistake more often than a wish."""
    updates, members = figures.updates, figures.list_members
    share = 100.0 * updates / members if members else (100.0 if updates else 0.0)
    said = (
        f"{updates:,} of {members:,} subscribed members would have their properties updated: "
        f"{share:.1f} %, limit {limit:g} % in [sync] max_update_pct"
    )
    if share > limit:
        return Guard("update_share", "stop", f"{said}: apply stops unless --force")
    return Guard("update_share", "ok", said)


def data_age(as_of: datetime | None, limit_h: float, now: datetime) -> Guard:
    """Stop when no Mailjet data was extracted, or when it is older than `limit_h` hours."""
    if as_of is None:
        return Guard(
            "data_age", "stop", "no Mailjet data has been extracted: run extract, then plan", forceable=False
        )
    hours = (now - as_of).total_seconds() / 3600
    said = f"Mailjet data extracted {ago(hours)} ago (limit {limit_h:g} h in [sync] max_data_age_hours)"
    if hours > limit_h:
        return Guard("data_age", "stop", f"{said}: run extract, then plan again")
    return Guard("data_age", "ok", said)


def unmatched_members(unmatched: int) -> list[Guard]:
    """A stop when memberships name contacts the extract did not list; no guard otherwise."""
    if not unmatched:
        return []
    one = unmatched == 1
    return [
        Guard(
            "unmatched_members",
            "stop",
            f"{unmatched:,} membership{'' if one else 's'} of the list name{'s' if one else ''} a contact "
            "the extract did not list (its address, and so whether they unsubscribed, is unknown): run a "
            "full extract, then plan again",
            forceable=False,
        )
    ]


def ago(hours: float) -> str:
    """A duration for people: minutes under an hour, else hours."""
    if hours < 1:
        minutes = max(0, round(hours * 60))
        return f"{minutes} minute{'' if minutes == 1 else 's'}"
    return f"{hours:.1f} h"
