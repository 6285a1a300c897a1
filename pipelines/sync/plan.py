"""The plan of audience runs on an open client of the warehouse: each audience built, its data tested,
diffed against its Mailjet list, its run written to `mailjet_sync` (one `sync_runs` row, its `sync_plan`
and `sync_rejections` rows, in one transaction per audience). Nothing is sent to Mailjet; the command's
flow (lock, resume, result) is `pipelines/plan.py`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
from dlt.destinations.exceptions import DatabaseException
from dlt.destinations.sql_client import SqlClientBase

from pipelines.interrupts import InterruptHandler
from pipelines.logs import console
from pipelines.models import dialect_of, render
from pipelines.sync.audience_sql import audience_sql, frame_sql, present_properties
from pipelines.sync.audiences import SHIPPED_AUDIENCES, Audience, AudienceError, OnExit, missing_properties
from pipelines.sync.config import SyncConfiguration
from pipelines.sync.datatests import prepare as prepare_data_tests
from pipelines.sync.datatests import run_data_tests
from pipelines.sync.diff import DiffInput, build_inputs, drop_sql, insert_held, insert_plan
from pipelines.sync.guards import Guard, PlanFigures, judge, stopped
from pipelines.sync.ledger import (
    ConsentCopy,
    ConsentRun,
    columns_of,
    create_ledger,
    insert_consent_rejections,
)
from pipelines.sync.lists import ListTarget, list_permissions, resolve_lists, shared_permissions
from pipelines.sync.properties import column_datatypes, compared_as, mailjet_datatypes
from pipelines.sync.tables import SYNC_DATASET, create_tables
from pipelines.sync.views import create_view, first_line, view_columns, where
from pipelines.warehouse.arrow import fetch_arrow, insert_arrow
from pipelines.warehouse.datasets import API_DATASET
from pipelines.warehouse.memory import buffers_spilled
from pipelines.warehouse.sync_models import refresh_sync_models

__all__ = ["ACTIONS", "SHIPPED_AUDIENCES", "AudiencePlan", "data_as_of", "plan_audience", "plan_with"]

ACTIONS = ("addnoforce", "unsub", "remove", "update")
SAMPLE = 3  # emails shown per action


@dataclass(frozen=True)
class AudiencePlan:
    """The plan of one audience run."""

    run_id: int
    audience: str
    list_ref: str
    list_id: int | None  # None: the list does not exist in Mailjet yet (apply creates it)
    list_name: str | None
    permission: str | None
    on_exit: OnExit
    audience_rows: int
    list_members: int  # subscribed members of the list
    actions: dict[str, dict[str, int]]  # action -> reason -> count
    rejected: dict[str, int]  # failed a data test: reason -> count
    held_back: dict[str, int]  # in the audience, not added: reason -> count
    consent_rejected: dict[str, int]  # the CRM's consent rows the ledger cannot use: reason -> count
    samples: dict[str, list[str]]  # action -> a few of its emails
    guards: list[Guard]
    data_as_of: str | None
    shared_by: tuple[str, ...] = ()  # the lists sharing its permission, its own among them; () when alone

    @property
    def stopped(self) -> bool:
        return stopped(self.guards)

    def count(self, action: str) -> int:
        return sum(self.actions.get(action, {}).values())


def plan_with(
    client: SqlClientBase[Any],
    defined: Sequence[Audience],
    chosen: Sequence[Audience],
    source: Path,
    config: SyncConfiguration,
    now: datetime,
    stop: InterruptHandler | None = None,
) -> list[AudiencePlan]:
    """Plan `chosen` (among the file's `defined` audiences, which map lists to permissions) on an open
    client of the warehouse. Every chosen audience's view is created and checked before any run is
    written. Each plan names the lists its permission is shared by (`shared_by`), whichever are chosen."""
    dialect = dialect_of(client)
    create_tables(client)
    late = refresh_sync_models(client)  # they read empty stand-ins until the tables existed
    if late:
        console().warning(f"mailjet-elt plan: {late}")
    lists = resolve_lists(client, defined, source, dialect)
    create_ledger(client, list_permissions(defined, lists), dialect, now)
    for item in chosen:
        create_view(client, item, source, dialect)
    if chosen:  # the views read: great-expectations is imported while the consent and audiences are built
        prepare_data_tests()
    as_of = data_as_of(client)
    known = tuple(sorted({a.permission for a in defined if a.permission}))
    shared = shared_permissions(defined, lists)
    plans = []
    copied = ConsentCopy()
    for i, item in enumerate(chosen):
        if stop is not None:
            stop.check()
        target = lists[item.list_ref]
        planned = plan_audience(
            client, item, source, target, as_of, config, dialect, now, (i == 0, known), copied
        )
        plans.append(replace(planned, shared_by=shared.get(item.permission or "", ())))
    return plans


def data_as_of(client: SqlClientBase[Any]) -> datetime | None:
    """When the Mailjet data the plan reads was extracted: the older of the newest contacts and the
    newest memberships (a plan needs both), else whichever exists, else the newest extract."""
    dialect = dialect_of(client)
    stamps: list[datetime] = []
    for name in ("contacts", "list_recipients"):
        try:
            rows = client.execute_sql(
                render("extracted_at", dialect, {f"{API_DATASET}.contacts": f"{API_DATASET}.{name}"})
            )
        except DatabaseException:
            continue
        if rows and isinstance(rows[0][0], datetime):
            stamps.append(rows[0][0])
    if stamps:
        return min(stamps)
    try:
        rows = client.execute_sql(render("latest_load", dialect))
    except DatabaseException:
        return None
    return rows[0][0] if rows and isinstance(rows[0][0], datetime) else None


def next_run_id(client: SqlClientBase[Any], now: datetime, dialect: str) -> int:
    """A run ID that grows with time: microseconds since 1970, past every earlier run's."""
    rows = client.execute_sql(render("latest_run", dialect))
    latest = int(rows[0][0]) if rows and rows[0][0] is not None else 0
    return max(int(now.timestamp() * 1_000_000), latest + 1)


def count(client: SqlClientBase[Any], sql: str, *args: Any) -> int:
    """The single number a query returns (0 for null)."""
    rows = client.execute_sql(sql, *args)
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def plan_audience(
    client: SqlClientBase[Any],
    item: Audience,
    source: Path,
    target: ListTarget,
    as_of: datetime | None,
    config: SyncConfiguration,
    dialect: str,
    now: datetime,
    consent: tuple[bool, tuple[str, ...]] = (True, ()),
    copied: ConsentCopy | None = None,
) -> AudiencePlan:
    """Build, test and diff one audience (its view created by `create_view`); write its run in one
    transaction, with the CRM's unusable consent rows of its permission (`consent`: whether it also takes
    those of no audience's permission, and every permission the file declares). The run reads consent as
    it stands when it starts (`copied`: the plan's copy, made again when an earlier run changed it)."""
    columns = view_columns(client, item.view)
    types = columns_of(client, SYNC_DATASET, item.view)
    created_as = column_datatypes(item.properties, types)
    defined = mailjet_datatypes(client, dialect) if item.properties else {}
    with client.begin_transaction():
        run_id = next_run_id(client, now, dialect)
        (copied or ConsentCopy()).refresh(client, dialect)
        present = build_audience(client, item, source, columns, dialect, types)
        audience_rows, failed = test_audience(client, item, source, columns, present, dialect)
        if failed:
            reject_rows(client, failed, run_id, item.name, target.list_id, dialect, now)
        usable = audience_rows - len(failed)
        rejected_pct = 100.0 * len(failed) / audience_rows if audience_rows else 0.0
        diff = DiffInput(
            run_id=run_id,
            audience=item.name,
            list_id=target.list_id,
            member_list_id=target.member_list_id,
            permission=item.permission,
            on_exit=item.on_exit,
            properties=item.properties,
            exits_allowed=usable > 0 and rejected_pct <= config.max_rejected_pct,
            dialect=dialect,
            as_of=as_of,
            datatypes=compared_as(item.properties, created_as, defined),
        )
        build_inputs(client, diff)
        insert_plan(client, diff)
        insert_held(client, diff, now)
        takes_rest, known = consent
        run = ConsentRun(run_id, item.name, target.list_id, item.permission, takes_rest, known)
        insert_consent_rejections(client, run, dialect, now)
        result = summarize(client, item, target, diff, audience_rows, as_of)
        seen = figures(client, result, diff, target, as_of, now - timedelta(days=config.removal_window_days))
        result = replace(result, guards=judge(seen, config, now))
        record_run(client, result, item, source, dialect, now, created_as)
    return result


def build_audience(
    client: SqlClientBase[Any],
    item: Audience,
    source: Path,
    columns: Sequence[str],
    dialect: str,
    types: Mapping[str, str] | None = None,
) -> list[tuple[int, str]]:
    """Create `_aud` (and an empty `_rejected`) from the audience's view (its columns of `types`); the
    properties it yields."""
    client.execute_sql(drop_sql("_aud", dialect))
    client.execute_sql(drop_sql("_rejected", dialect))
    try:
        client.execute_sql(audience_sql(item, columns, dialect, types))
    except DatabaseException as exc:
        raise AudienceError(
            f"{where(item, source)}: the view cannot be read ({first_line(exc)}); fix its SQL"
        ) from None
    client.execute_sql(render("data_test_rejected", dialect))
    return present_properties(item, columns)


def test_audience(
    client: SqlClientBase[Any],
    item: Audience,
    source: Path,
    columns: Sequence[str],
    present: Sequence[tuple[int, str]],
    dialect: str,
) -> tuple[int, dict[int, str]]:
    """Run the data tests on `_aud`: its row count, and the failing rows (row number -> reason). An
    audience without rows has none to fail: great-expectations is neither imported nor run for it (its
    only verdict would be the declared properties missing from the frame, told here the same way)."""
    rows = count(client, render("audience_count", dialect))
    if rows == 0:
        found = {i for i, _ in present}
        missing = [p for i, p in enumerate(item.properties) if i not in found]
        failures: dict[int, str] = {}
    else:
        frame = fetch_arrow(client, frame_sql(item, columns, dialect)).to_pandas()
        with buffers_spilled(client):  # the peak of the plan's memory: the engine's buffers wait on disk
            tests = run_data_tests(frame, item.properties, item.name)
        del frame
        pa.default_memory_pool().release_unused()  # Arrow's allocator keeps what the frame held otherwise
        missing, failures = tests.missing_properties, dict(tests.failures)
    if missing:  # create_view checked them; the data tests say so too
        raise AudienceError(missing_properties(where(item, source), missing, columns))
    return rows, failures


def reject_rows(
    client: SqlClientBase[Any],
    failures: dict[int, str],
    run_id: int,
    audience: str,
    list_id: int | None,
    dialect: str,
    now: datetime,
) -> None:
    """Mark the rows that failed a data test in `_aud` and write them to `sync_rejections`."""
    rows = sorted(failures.items())
    insert_arrow(
        client, "_rejected", pa.table({"row_no": [r for r, _ in rows], "reason": [why for _, why in rows]})
    )
    client.execute_sql(render("data_test_mark", dialect))
    client.execute_sql(render("data_test_rejections", dialect), run_id, audience, list_id, now.isoformat())


def summarize(
    client: SqlClientBase[Any],
    item: Audience,
    target: ListTarget,
    diff: DiffInput,
    audience_rows: int,
    as_of: datetime | None,
) -> AudiencePlan:
    """What the run planned, read back from `sync_plan` and `sync_rejections` (no guards yet)."""
    dialect, run_id = diff.dialect, diff.run_id
    actions: dict[str, dict[str, int]] = {}
    for action, reason, n in client.execute_sql(render("plan_actions", dialect), run_id) or []:
        actions.setdefault(str(action), {})[str(reason)] = int(n)
    left_out = client.execute_sql(render("plan_left_out", dialect), run_id) or []
    samples: dict[str, list[str]] = {}
    for action, address in client.execute_sql(render("plan_samples", dialect), run_id, SAMPLE) or []:
        samples.setdefault(str(action), []).append(str(address))
    return AudiencePlan(
        run_id=run_id,
        audience=item.name,
        list_ref=item.list_ref,
        list_id=target.list_id,
        list_name=target.name,
        permission=item.permission,
        on_exit=item.on_exit,
        audience_rows=audience_rows,
        list_members=count(client, render("list_members", dialect)),
        actions=actions,
        rejected={str(r): int(n) for s, r, n in left_out if s == "data_test"},
        held_back={str(r): int(n) for s, r, n in left_out if s == "plan"},
        consent_rejected={str(r): int(n) for s, r, n in left_out if s == "consent"},
        samples=samples,
        guards=[],
        data_as_of=as_of.isoformat() if as_of else None,
    )


def figures(
    client: SqlClientBase[Any],
    result: AudiencePlan,
    diff: DiffInput,
    target: ListTarget,
    as_of: datetime | None,
    window_start: datetime,
) -> PlanFigures:
    """What the guards read of a run: its counts, the members exits would concern, and the removals
    applied to its list since `window_start`."""
    managed_kept = 0
    if not diff.exits_allowed and result.on_exit != "keep":
        managed_kept = count(client, render("managed_kept", diff.dialect))
    unmatched = removed = 0
    if target.member_list_id is not None:
        unmatched = count(client, render("unmatched_members", diff.dialect), target.member_list_id)
    if target.list_id is not None:
        removed = count(client, render("removed_within", diff.dialect), target.list_id, window_start)
    return PlanFigures(
        audience_rows=result.audience_rows,
        rejected=sum(result.rejected.values()),
        leaving=result.count("unsub") + result.count("remove"),
        list_members=result.list_members,
        on_exit=result.on_exit,
        managed_kept=managed_kept,
        unmatched=unmatched,
        as_of=as_of,
        removed_recently=removed,
        updates=result.count("update"),
    )


def record_run(
    client: SqlClientBase[Any],
    result: AudiencePlan,
    item: Audience,
    source: Path,
    dialect: str,
    now: datetime,
    datatypes: Mapping[str, str] | None = None,
) -> None:
    """Write the run's `sync_runs` row (`datatypes`: each property's, from its column, as apply creates a
    missing definition)."""
    counts = {a: result.count(a) for a in ACTIONS}
    client.execute_sql(
        render("run_record", dialect),
        result.run_id,
        item.name,
        item.list_ref,
        result.list_id,
        result.list_name,
        item.permission,
        item.on_exit,
        str(source),
        now.isoformat(),
        result.data_as_of,
        result.audience_rows,
        sum(result.rejected.values()),
        sum(result.held_back.values()),
        result.list_members,
        counts["addnoforce"],
        counts["unsub"],
        counts["remove"],
        counts["update"],
        "stop" if result.stopped else "ok",
        json.dumps([g.__dict__ for g in result.guards]),
        ",".join(item.properties),
        json.dumps(dict(datatypes or {})),
    )
