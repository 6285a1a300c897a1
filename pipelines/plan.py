"""`mailjet-elt plan`: build each audience, test its data, diff it against its Mailjet list and write the
plan to `mailjet_sync` (one `sync_runs` row per audience, its `sync_plan` and `sync_rejections` rows, in
one transaction per audience). The unapplied plans of audiences the file no longer defines (removed or
renamed) are marked superseded: they are never sent. Nothing is sent to Mailjet. The engine is
`pipelines/sync/plan.py`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dlt.destinations.sql_client import SqlClientBase

from pipelines.errors import EXIT_GUARD, EXIT_OK, EXIT_USAGE, CommandError
from pipelines.interrupts import InterruptHandler
from pipelines.logs import console
from pipelines.run_report import planned_counts
from pipelines.settings import DEFAULT_LOCK_WAIT_SECONDS
from pipelines.sync.audiences import audiences_path, choose, read_audiences
from pipelines.sync.config import SyncConfiguration, resolve_sync_config
from pipelines.sync.plan import AudiencePlan, plan_with
from pipelines.sync.runs import supersede_removed
from pipelines.warehouse.datasets import API_DATASET, CRM_DATASET
from pipelines.warehouse.incoming import unfinished_loads
from pipelines.warehouse.lock import WriterLock
from pipelines.warehouse.paths import require_database
from pipelines.warehouse.writing import writing


@dataclass(frozen=True)
class PlanResult:
    """What a plan run planned."""

    audiences_file: str
    plans: list[AudiencePlan]
    seconds: float
    database: str | None
    resumed: list[str] = field(default_factory=list)
    superseded: list[str] = field(default_factory=list)  # plans of audiences no longer in the file

    @property
    def exit_code(self) -> int:
        """3 when a guard stopped an audience's plan (apply will not send it unless forced), as `apply`
        exits; else 0."""
        return EXIT_GUARD if any(p.stopped for p in self.plans) else EXIT_OK


def plan(
    *,
    db: str,
    destination: str | None = None,
    audience: str | None = None,
    audiences: str | None = None,
    config: SyncConfiguration | None = None,
    interrupts: InterruptHandler | None = None,
    lock_wait: float = DEFAULT_LOCK_WAIT_SECONDS,
    now: datetime | None = None,
    held: WriterLock | None = None,
) -> PlanResult:
    """Plan the sync of `audience` (default: every audience of the file); what it planned, or
    CommandError. `now` stands for the clock (tests); `held`: the writer lock, taken already by the caller
    (`run`)."""
    source = audiences_path(audiences)
    defined = read_audiences(source)
    chosen = choose(defined, audience, source)
    config = config or resolve_sync_config()
    require_database(db, destination, "plan")
    started = time.monotonic()
    stop = interrupts or InterruptHandler("plan")
    with writing(
        db, destination, "plan", API_DATASET, lock_wait, _say, interrupts=stop, loads=False, held=held
    ) as warehouse:
        with warehouse.pipeline.sql_client() as client:
            refuse_unfinished_loads(client)
            plans = plan_with(client, defined, chosen, source, config, now or datetime.now(UTC), stop)
            warehouse.summary = planned_counts(plans)
            with client.begin_transaction():
                superseded = supersede_removed(client, {a.name for a in defined})
        resumed = warehouse.resumed
    return PlanResult(
        audiences_file=str(source),
        plans=plans,
        seconds=time.monotonic() - started,
        database=db if destination in (None, "duckdb") else None,
        resumed=resumed,
        superseded=superseded,
    )


def refuse_unfinished_loads(client: SqlClientBase[Any]) -> None:
    """Raise CommandError (exit 2) when a `load` into `crm` started and did not put its rows in place:
    the table still holds what the load before it left, which the user meant to replace."""
    unfinished = unfinished_loads(client)
    if not unfinished:
        return
    first = unfinished[0]
    name = f"{CRM_DATASET}.{first.table}"
    again = f"mailjet-elt load {first.file} --table {first.table}{' --append' if first.append else ''}"
    others = ", ".join(f"{CRM_DATASET}.{u.table}" for u in unfinished[1:])
    raise CommandError(
        f"{name}: the load of {first.file} started at {first.started_at:%Y-%m-%d %H:%M:%S} and did not "
        f"finish, so {name} still holds the rows of the load before it; planning from them could undo "
        f"what that file says. Nothing was planned. Load it again: {again}"
        + (f" (and the same for {others})" if others else ""),
        EXIT_USAGE,
    )


def _say(text: str) -> None:
    console().warning(f"mailjet-elt plan: {text}")
