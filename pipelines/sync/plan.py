"""`mailjet-elt plan`: build each audience, test its data, diff it against its Mailjet list and write the
plan to `mailjet_sync` (one `sync_runs` row per audience, its `sync_plan` and `sync_rejections` rows, in
one transaction per audience). Nothing is sent to Mailjet."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlglot
from dlt.destinations.exceptions import DatabaseException
from dlt.destinations.sql_client import SqlClientBase
from sqlglot import exp

from pipelines.errors import EXIT_USAGE, CommandError
from pipelines.interrupts import InterruptHandler
from pipelines.logs import console
from pipelines.settings import DEFAULT_LOCK_WAIT_SECONDS
from pipelines.sync.audiences import Audience, AudienceError, one_list_one_audience, read_audiences
from pipelines.sync.config import SyncConfiguration, resolve_sync_config
from pipelines.sync.datatests import DUPLICATE, INVALID, MISSING, run_data_tests
from pipelines.sync.diff import DiffInput, build_inputs, held_sql, plan_sql, sql_id, sql_text
from pipelines.sync.ledger import create_ledger, norm_email
from pipelines.sync.tables import SYNC_DATASET, TABLES, create_tables, table
from pipelines.warehouse import duckdb_path, pipelines_dir, writing
from pipelines.warehouse.arrow import fetch_arrow, insert_arrow
from pipelines.warehouse.datasets import API_DATASET, VIEWS_DATASET

SHIPPED_AUDIENCES = Path(__file__).parents[2] / "audiences.sql"  # the repository root: the file users own
LOCAL_AUDIENCES = Path("audiences.sql")
SYNC_VIEWS = ("consent_ledger", "consent_current")
ACTIONS = ("addnoforce", "unsub", "remove", "update")
SAMPLE = 3  # emails shown per action
DATA_TEST_DETAIL = {
    MISSING: "'no email address'",
    INVALID: "'not a valid email address'",
    DUPLICATE: "'the address appears ' || cast(d.copies as varchar) || ' times in the audience'",
}


@dataclass(frozen=True)
class Guard:
    """One guard's verdict: ok, held (the plan leaves something out) or stop (apply stops unless --force)."""

    name: str
    verdict: str
    detail: str


@dataclass(frozen=True)
class AudiencePlan:
    """The plan of one audience run."""

    run_id: int
    audience: str
    list_ref: str
    list_id: int | None  # None: the list does not exist in Mailjet yet (apply creates it)
    list_name: str | None
    permission: str | None
    on_exit: str
    audience_rows: int
    list_members: int  # subscribed members of the list
    actions: dict[str, dict[str, int]]  # action -> reason -> count
    rejected: dict[str, int]  # failed a data test: reason -> count
    held_back: dict[str, int]  # in the audience, not added: reason -> count
    samples: dict[str, list[str]]  # action -> a few of its emails
    guards: list[Guard]
    data_as_of: str | None

    @property
    def stopped(self) -> bool:
        return any(g.verdict == "stop" for g in self.guards)

    def count(self, action: str) -> int:
        return sum(self.actions.get(action, {}).values())


@dataclass(frozen=True)
class PlanResult:
    """What a plan run planned."""

    audiences_file: str
    plans: list[AudiencePlan]
    seconds: float
    database: str | None
    resumed: list[str] = field(default_factory=list)


def audiences_path(given: str | None) -> Path:
    """The audiences file: the one given, else ./audiences.sql when present, else the shipped one."""
    if given:
        return Path(given)
    return LOCAL_AUDIENCES if LOCAL_AUDIENCES.is_file() else SHIPPED_AUDIENCES


def choose(audiences: Sequence[Audience], name: str | None, source: Path) -> list[Audience]:
    """The audiences to plan: all, or the one named; CommandError (exit 2) for an unknown name."""
    if name is None:
        return list(audiences)
    chosen = [a for a in audiences if a.name == name]
    if not chosen:
        raise CommandError(
            f"--audience {name!r}: {source} defines no such audience; it defines "
            f"{', '.join(a.name for a in audiences)}",
            EXIT_USAGE,
        )
    return chosen


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
) -> PlanResult:
    """Plan the sync of `audience` (default: every audience of the file); what it planned, or
    CommandError. `now` stands for the clock (tests)."""
    source = audiences_path(audiences)
    defined = read_audiences(source)
    chosen = choose(defined, audience, source)
    config = config or resolve_sync_config()
    folder = pipelines_dir(db, destination)
    if folder is not None and not duckdb_path(db).is_file():
        raise CommandError(
            f"--db {db}: no database there yet. Run `mailjet-elt extract` first (and `mailjet-elt load` "
            "for the CRM tables your audiences read), then plan",
            EXIT_USAGE,
        )
    started = time.monotonic()
    stop = interrupts or InterruptHandler("plan")
    with writing(
        db, destination, "plan", API_DATASET, lock_wait, _say, interrupts=stop, loads=False
    ) as warehouse:
        with warehouse.pipeline.sql_client() as client:
            plans = plan_with(client, defined, chosen, source, config, now or datetime.now(UTC), stop)
        resumed = warehouse.resumed
    return PlanResult(
        audiences_file=str(source),
        plans=plans,
        seconds=time.monotonic() - started,
        database=db if destination in (None, "duckdb") else None,
        resumed=resumed,
    )


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
    written."""
    dialect = "postgres" if "postgres" in type(client).__module__ else "duckdb"
    create_tables(client)
    lists = resolve_lists(client, defined, source)
    create_ledger(client, list_permissions(defined, lists))
    for item in chosen:
        create_view(client, item, source, dialect)
    as_of = data_as_of(client)
    plans = []
    for item in chosen:
        if stop is not None:
            stop.check()
        plans.append(plan_audience(client, item, source, lists[item.list_ref], as_of, config, dialect, now))
    return plans


@dataclass(frozen=True)
class ListTarget:
    """The list an audience feeds: Mailjet's (`list_id`, None while Mailjet does not have it), and the
    list whose memberships count (Mailjet's, else one known only from imported files, whose
    unsubscribes still keep people off it)."""

    list_id: int | None
    name: str | None
    member_list_id: int | None


def resolve_lists(
    client: SqlClientBase[Any], audiences: Sequence[Audience], source: Path
) -> dict[str, ListTarget]:
    """Each audience's `-- list:` resolved by ID, else by exact name, else by name case-insensitively:
    among Mailjet's live lists first, then among lists known only from imported files. AudienceError
    when two audiences name one list in two ways."""
    rows = client.execute_sql(
        f"select id, name, _source from {VIEWS_DATASET}.contact_lists where "
        "coalesce(is_deleted, false) = false order by id"
    )
    api = [(int(i), str(n)) for i, n, origin in rows or [] if origin == "api"]
    files = [(int(i), str(n)) for i, n, origin in rows or [] if origin != "api"]

    def find(ref: str, known: list[tuple[int, str]]) -> tuple[int, str] | None:
        match = [k for k in known if ref.isdigit() and k[0] == int(ref)] or [k for k in known if k[1] == ref]
        match = match or [k for k in known if k[1].lower() == ref.lower()]
        return match[0] if match else None

    resolved: dict[str, ListTarget] = {}
    owner: dict[int, Audience] = {}
    for item in audiences:
        found = find(item.list_ref, api)
        if found is not None:
            target = ListTarget(found[0], found[1], found[0])
        else:
            from_files = None if item.list_ref.isdigit() else find(item.list_ref, files)
            target = ListTarget(None, None, from_files[0] if from_files else None)
        resolved[item.list_ref] = target
        if target.member_list_id is not None:
            other = owner.setdefault(target.member_list_id, item)
            if other is not item:
                raise AudienceError(one_list_one_audience(str(source), item, other))
    return resolved


def list_permissions(audiences: Sequence[Audience], lists: dict[str, ListTarget]) -> dict[int, str]:
    """List ID (whose memberships count) -> the permission its audience declares."""
    return {
        lists[a.list_ref].member_list_id: a.permission  # type: ignore[misc]
        for a in audiences
        if a.permission is not None and lists[a.list_ref].member_list_id is not None
    }


def data_as_of(client: SqlClientBase[Any]) -> datetime | None:
    """When the Mailjet data the plan reads was extracted: the older of the newest contacts and the
    newest memberships (a plan needs both), else whichever exists, else the newest extract."""
    stamps: list[datetime] = []
    for name in ("contacts", "list_recipients"):
        try:
            rows = client.execute_sql(f"select max(_extracted_at) from {API_DATASET}.{name}")
        except DatabaseException:
            continue
        if rows and isinstance(rows[0][0], datetime):
            stamps.append(rows[0][0])
    if stamps:
        return min(stamps)
    try:
        rows = client.execute_sql(f"select max(inserted_at) from {API_DATASET}._dlt_loads where status = 0")
    except DatabaseException:
        return None
    return rows[0][0] if rows and isinstance(rows[0][0], datetime) else None


def view_statement(item: Audience, dialect: str) -> str:
    """The audience's `create or replace view`, in `mailjet_sync`, its unqualified tables read from
    `mailjet` (or `mailjet_sync`, for the consent views and other audiences)."""
    create = sqlglot.parse_one(item.sql, read="duckdb")
    assert isinstance(create, exp.Create)
    ctes = {cte.alias_or_name.lower() for cte in create.find_all(exp.CTE)}
    for relation in create.find_all(exp.Table):
        if (
            relation is create.this
            or relation.args.get("db")
            or not isinstance(relation.this, exp.Identifier)
        ):
            continue
        name = relation.name.lower()
        if name in ctes:
            continue
        own = name in SYNC_VIEWS or name.startswith("audience_")
        relation.set("db", exp.to_identifier(SYNC_DATASET if own else VIEWS_DATASET))
    create.this.set("db", exp.to_identifier(SYNC_DATASET))
    create.set("replace", True)
    return create.sql(dialect=dialect)


def view_columns(client: SqlClientBase[Any], view: str) -> list[str]:
    rows = client.execute_sql(
        "select column_name from information_schema.columns where table_catalog = current_database() "
        "and table_schema = %s and table_name = %s order by ordinal_position",
        SYNC_DATASET,
        view,
    )
    return [str(r[0]) for r in rows or []]


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def next_run_id(client: SqlClientBase[Any], now: datetime) -> int:
    """A run ID that grows with time: microseconds since 1970, past every earlier run's."""
    rows = client.execute_sql(f"select max(run_id) from {table('sync_runs')}")
    latest = int(rows[0][0]) if rows and rows[0][0] is not None else 0
    return max(int(now.timestamp() * 1_000_000), latest + 1)


def create_view(client: SqlClientBase[Any], item: Audience, source: Path, dialect: str) -> None:
    """Create the audience's view in `mailjet_sync` and check it yields `email`; AudienceError when the
    database refuses it."""
    where = f"{source}:{item.line}: audience {item.name!r}"
    try:
        client.execute_sql(view_statement(item, dialect))
    except DatabaseException as exc:
        raise AudienceError(
            f"{where}: the database refused its view ({_first_line(exc)}). Fix the SQL; a table it reads "
            "from your CRM must be loaded first (mailjet-elt load FILE --table NAME)"
        ) from None
    columns = view_columns(client, item.view)
    if "email" not in {c.lower() for c in columns}:
        raise AudienceError(
            f"{where}: the view yields no `email` column (it yields {', '.join(columns)}); select the "
            "address as `email`"
        )
    missing = [p for p in item.properties if p.lower() not in {c.lower() for c in columns}]
    if missing:
        raise AudienceError(missing_properties(where, missing, columns))


def missing_properties(where: str, missing: Sequence[str], columns: Sequence[str]) -> str:
    return (
        f"{where}: declared propert{'y' if len(missing) == 1 else 'ies'} {', '.join(missing)} not among "
        f"the view's columns ({', '.join(columns)}); add the column or drop it from `-- properties:`"
    )


def count(client: SqlClientBase[Any], query: str) -> int:
    rows = client.execute_sql(query)
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
) -> AudiencePlan:
    """Build, test and diff one audience (its view created by `create_view`); write its run in one
    transaction."""
    where = f"{source}:{item.line}: audience {item.name!r}"
    list_id = target.list_id
    columns = view_columns(client, item.view)
    by_lower = {c.lower(): c for c in columns}
    present = [(i, by_lower[p.lower()]) for i, p in enumerate(item.properties) if p.lower() in by_lower]
    at = f"cast({sql_text(now.isoformat())} as timestamp with time zone)"
    with client.begin_transaction():
        run_id = next_run_id(client, now)
        client.execute_sql("drop table if exists _aud")
        client.execute_sql("drop table if exists _rejected")
        # A blank value is no value: it is never pushed (it would erase Mailjet's).
        picks = "".join(
            f", nullif(regexp_replace(cast({quote(c)} as varchar), '^\\s+|\\s+$', '', 'g'), '') as p_{i}"
            for i, c in present
        )
        email = quote(by_lower["email"])
        try:
            client.execute_sql(
                "create temporary table _aud as select row_number() over () - 1 as row_no, "
                f"cast({email} as varchar) as email_given, nullif({norm_email(email)}, '') as email, "
                f"false as rejected{picks} from {table(item.view)}"
            )
        except DatabaseException as exc:
            raise AudienceError(
                f"{where}: the view cannot be read ({_first_line(exc)}); fix its SQL"
            ) from None
        frame_sql = "select email" + "".join(f", p_{i} as {quote(item.properties[i])}" for i, _ in present)
        frame = fetch_arrow(client, f"{frame_sql} from _aud order by row_no").to_pandas()
        tests = run_data_tests(frame, item.properties, item.name)
        del frame
        if tests.missing_properties:  # create_view checked them; the data tests say so too
            raise AudienceError(missing_properties(where, tests.missing_properties, columns))
        audience_rows = count(client, "select count(*) from _aud")
        client.execute_sql("create temporary table _rejected (row_no bigint, reason varchar)")
        if tests.failures:
            rows = sorted(tests.failures.items())
            insert_arrow(
                client,
                "_rejected",
                pa.table({"row_no": [r for r, _ in rows], "reason": [why for _, why in rows]}),
            )
            client.execute_sql(
                "update _aud set rejected = true where row_no in (select row_no from _rejected)"
            )
            details = " ".join(f"when '{r}' then {sql}" for r, sql in DATA_TEST_DETAIL.items())
            client.execute_sql(
                f"insert into {table('sync_rejections')} (run_id, audience, list_id, email, stage, reason, "
                f'detail, "at") select {run_id}, {sql_text(item.name)}, {sql_id(list_id)}, a.email_given, '
                f"'data_test', r.reason, case r.reason {details} end, {at} "
                "from _rejected r join _aud a on a.row_no = r.row_no "
                "left join (select email, count(*) as copies from _aud where email is not null "
                "group by email) d on d.email = a.email"
            )
        usable = audience_rows - len(tests.failures)
        rejected_pct = 100.0 * len(tests.failures) / audience_rows if audience_rows else 0.0
        diff = DiffInput(
            run_id=run_id,
            audience=item.name,
            list_id=list_id,
            member_list_id=target.member_list_id,
            permission=item.permission,
            on_exit=item.on_exit,
            properties=item.properties,
            exits_allowed=usable > 0 and rejected_pct <= config.max_rejected_pct,
            dialect=dialect,
        )
        build_inputs(client, diff)
        client.execute_sql(plan_sql(diff))
        client.execute_sql(held_sql(diff, at))
        actions: dict[str, dict[str, int]] = {}
        for action, reason, n in (
            client.execute_sql(
                f"select action, reason, count(*) from {table('sync_plan')} where run_id = {run_id} "
                "group by 1, 2"
            )
            or []
        ):
            actions.setdefault(str(action), {})[str(reason)] = int(n)
        left_out = client.execute_sql(
            f"select stage, reason, count(*) from {table('sync_rejections')} where run_id = {run_id} "
            "group by 1, 2"
        )
        rejected = {str(r): int(n) for s, r, n in left_out or [] if s == "data_test"}
        held = {str(r): int(n) for s, r, n in left_out or [] if s == "plan"}
        samples: dict[str, list[str]] = {}
        for action, address in (
            client.execute_sql(
                "select action, email from (select action, email, row_number() over (partition by action "
                f"order by email) as n from {table('sync_plan')} where run_id = {run_id}) t "
                f"where n <= {SAMPLE} order by action, email"
            )
            or []
        ):
            samples.setdefault(str(action), []).append(str(address))
        members = count(
            client, "select count(*) from _members where coalesce(is_unsubscribed, false) = false"
        )
        managed_kept = 0
        if not diff.exits_allowed and item.on_exit != "keep":
            managed_kept = count(
                client,
                "select count(*) from _members m join _managed g on g.email = m.email "
                "left join _presence p on p.email = m.email "
                "where m.is_unsubscribed = false and not coalesce(p.eligible, false)",
            )
        unmatched = 0
        if target.member_list_id is not None:
            unmatched = count(
                client,
                f"select count(*) from {VIEWS_DATASET}.list_recipients r where r._source = 'api' and "
                f"r.list_id = {sql_id(target.member_list_id)} and not exists (select 1 from "
                f"{VIEWS_DATASET}.contacts c where c.id = r.contact_id)",
            )
        result = AudiencePlan(
            run_id=run_id,
            audience=item.name,
            list_ref=item.list_ref,
            list_id=list_id,
            list_name=target.name,
            permission=item.permission,
            on_exit=item.on_exit,
            audience_rows=audience_rows,
            list_members=members,
            actions=actions,
            rejected=rejected,
            held_back=held,
            samples=samples,
            guards=[],
            data_as_of=as_of.isoformat() if as_of else None,
        )
        guards = judge(result, as_of, managed_kept, unmatched, config, now)
        result = AudiencePlan(**{**result.__dict__, "guards": guards})
        counts = {a: result.count(a) for a in ACTIONS}
        values = [
            str(run_id),
            sql_text(item.name),
            sql_text(item.list_ref),
            sql_id(list_id),
            sql_text(target.name),
            sql_text(item.permission),
            sql_text(item.on_exit),
            sql_text(str(source)),
            at,
            "null" if as_of is None else f"cast({sql_text(as_of.isoformat())} as timestamp with time zone)",
            "'planned'",
            str(audience_rows),
            str(sum(rejected.values())),
            str(sum(held.values())),
            str(members),
            str(counts["addnoforce"]),
            str(counts["unsub"]),
            str(counts["remove"]),
            str(counts["update"]),
            "'stop'" if result.stopped else "'ok'",
            sql_text(json.dumps([g.__dict__ for g in guards])),
            sql_text(",".join(item.properties)),
        ]
        names = ", ".join(f'"{c}"' for c in list(TABLES["sync_runs"])[: len(values)])
        client.execute_sql(f"insert into {table('sync_runs')} ({names}) values ({', '.join(values)})")
    return result


def judge(
    result: AudiencePlan,
    as_of: datetime | None,
    managed_kept: int,
    unmatched: int,
    config: SyncConfiguration,
    now: datetime,
) -> list[Guard]:
    """The guards' verdicts on a plan (design §7.4)."""
    guards: list[Guard] = []
    failed = sum(result.rejected.values())
    usable = result.audience_rows - failed
    kept = (
        f": nobody leaves the list ({managed_kept:,} member{'' if managed_kept == 1 else 's'} it added "
        f"stay{'s' if managed_kept == 1 else ''})"
        if result.on_exit != "keep"
        else ""
    )
    if usable == 0:
        what = (
            "the audience is empty"
            if result.audience_rows == 0
            else "no row of the audience passed the data tests"
        )
        guards.append(Guard("empty_audience", "held", f"{what}{kept}; check its SQL and the tables it reads"))
    else:
        guards.append(Guard("empty_audience", "ok", f"{usable:,} usable rows"))
    share = 100.0 * failed / result.audience_rows if result.audience_rows else 0.0
    said = (
        f"{failed:,} of {result.audience_rows:,} rows failed the data tests ({share:.1f} %, limit "
        f"{config.max_rejected_pct:g} %)"
    )
    if usable > 0 and share > config.max_rejected_pct:
        guards.append(Guard("data_tests", "held", f"{said}{kept}; fix them (mailjet_sync.sync_rejections)"))
    else:
        guards.append(Guard("data_tests", "ok", said))
    leaving = result.count("unsub") + result.count("remove")
    share = 100.0 * leaving / result.list_members if result.list_members else (100.0 if leaving else 0.0)
    limit = config.max_removal_pct
    said = (
        f"{leaving:,} of {result.list_members:,} subscribed members would leave the list (unsubscribed or "
        f"removed): {share:.1f} %, limit {limit:g} %"
    )
    if share > limit:
        guards.append(Guard("removal_share", "stop", f"{said}: apply stops unless --force"))
    else:
        guards.append(Guard("removal_share", "ok", said))
    if as_of is None:
        guards.append(Guard("data_age", "stop", "no Mailjet data has been extracted: run extract, then plan"))
    else:
        hours = (now - as_of).total_seconds() / 3600
        limit_h = config.max_data_age_hours
        said = f"Mailjet data extracted {_ago(hours)} ago (limit {limit_h:g} h)"
        if hours > limit_h:
            guards.append(Guard("data_age", "stop", f"{said}: run extract, then plan again"))
        else:
            guards.append(Guard("data_age", "ok", said))
    if unmatched:
        guards.append(
            Guard(
                "unmatched_members",
                "stop",
                f"{unmatched:,} membership{'' if unmatched == 1 else 's'} of the list "
                f"name{'s' if unmatched == 1 else ''} a contact the extract did not list (its address, and "
                "so whether they unsubscribed, is unknown): run a full extract, then plan again",
            )
        )
    return guards


def _ago(hours: float) -> str:
    """A duration for people: minutes under an hour, else hours."""
    if hours < 1:
        minutes = max(0, round(hours * 60))
        return f"{minutes} minute{'' if minutes == 1 else 's'}"
    return f"{hours:.1f} h"


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _say(text: str) -> None:
    console().warning(f"mailjet-elt plan: {text}")
