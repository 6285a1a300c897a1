"""`mailjet-elt explain EMAIL`: one person's story, from what the warehouse holds. Their Mailjet contacts,
every consent event of the ledger and the one in force per permission, why no list may receive them
(suppression), their memberships and whether the sync made each, every change a plan decided about them
with its reason and what `apply` did with it (job, outcome), every time they were left out or refused, and
their engagement. Reads only: the DuckDB file read-only, as `mailjet-elt sql` does; a server warehouse
through its SQL client. The statements are `pipelines/models/explain/*.sql`, one per part, each taking the
email as its only parameter (given as often as the statement reads it) and comparing it as the sync
normalizes addresses.

Kept to the person, so that the story takes well under a second at a million contacts (bench/explain.py):
the consent part reads the ledger's query (consent_ledger.sql, as the plan made its view) with the person's
address put into each of its sources, not the whole ledger; the contacts are looked up once (the contacts
part) and the parts that read them again read those contacts only (found by their IDs)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlglot import exp

from pipelines import models
from pipelines.errors import EXIT_FAILURE, EXIT_USAGE, CommandError
from pipelines.interrupts import InterruptHandler
from pipelines.settings import DEFAULT_LOCK_WAIT_SECONDS
from pipelines.sync.ledger_query import ledger_query
from pipelines.sync.tables import TABLES
from pipelines.warehouse.names import API_DATASET, CRM_DATASET, SYNC_DATASET, VIEWS_DATASET

STATEMENTS = models.MODELS_FOLDER / "explain"
PARTS = ("contacts", "consent", "suppression", "memberships", "decisions", "rejections", "engagement")
# The ledger's views, made by `plan`: before the first plan they stand in as empty relations.
LEDGER_COLUMNS = {
    "email": "text",
    "permission": "text",
    "granted": "boolean",
    "at": "timestamp with time zone",
    "source": "text",
    "list_id": "bigint",
}
SYNC_RELATIONS = {
    name: {column: kind.removesuffix(" not null") for column, kind in columns.items()}
    for name, columns in TABLES.items()
}
SYNC_RELATIONS["consent_ledger"] = LEDGER_COLUMNS
SYNC_RELATIONS["consent_current"] = LEDGER_COLUMNS
# The parts that read the person's contacts again (the consent part: in the ledger's list state): they read
# those the contacts part found.
CONTACT_PARTS = ("consent", "suppression", "memberships", "engagement")
# The tables the ledger reads with the columns they have (the CRM's consent events, the webhook events).
LEDGER_INPUTS = ((CRM_DATASET, "consent_events"), (API_DATASET, "events"))

Row = dict[str, Any]
Columns = dict[tuple[str, str], dict[str, str]]  # (dataset, table) -> lowercase column -> lowercase type
Run = Callable[[str, int], tuple[list[str], list[tuple[Any, ...]]]]  # (SQL, parameters) -> columns, rows


@dataclass(frozen=True)
class Story:
    """What the warehouse says about one person: each part's rows, as `PARTS` names them."""

    email: str
    parts: dict[str, list[Row]]
    planned: bool  # whether a plan has run on this warehouse (else the sync's parts are empty by force)

    @property
    def known(self) -> bool:
        """Whether the warehouse holds anything about them."""
        return any(rows for name, rows in self.parts.items() if name != "engagement") or bool(
            (self.parts.get("engagement") or [{}])[0].get("messages")
        )


def explain(
    *,
    db: str,
    email: str,
    destination: str | None = None,
    lock_wait: float = DEFAULT_LOCK_WAIT_SECONDS,
    stop: InterruptHandler | None = None,
) -> Story:
    """The story of `email`. CommandError (exit 2) for an empty address, a missing DuckDB file, or a warehouse
    without the `mailjet` views (nothing extracted or imported yet)."""
    if not email.strip():
        raise CommandError("explain needs an email address: mailjet-elt explain EMAIL", EXIT_USAGE)
    stop = stop or InterruptHandler("explain")
    from pipelines.warehouse_reader import reading

    datasets = (VIEWS_DATASET, SYNC_DATASET)
    with reading(db, destination, lock_wait, "explain", stop, datasets) as reader:
        inputs: Columns = {(dataset, name): reader.columns(dataset, name) for dataset, name in LEDGER_INPUTS}

        def run(sql: str, parameters: int) -> tuple[list[str], list[tuple[Any, ...]]]:
            return reader.run(sql, [email] * parameters)

        return _story(email, reader.present, inputs, reader.dialect, run)


def _story(email: str, present: set[tuple[str, str]], inputs: Columns, dialect: str, run: Run) -> Story:
    if (VIEWS_DATASET, "contacts") not in present:
        raise CommandError(
            f"this warehouse has no `{VIEWS_DATASET}` views yet: run `mailjet-elt extract` (or "
            "import-csv) first",
            EXIT_USAGE,
        )
    # The sync's tables and views that do not exist yet (no plan, or an older version) read as empty.
    missing: dict[str, models.Relation] = {
        f"{SYNC_DATASET}.{name}": models.empty_relation(columns)
        for name, columns in SYNC_RELATIONS.items()
        if (SYNC_DATASET, name) not in present
    }
    # The person's own ledger, built from consent_ledger.sql as the plan made its view (with the lists'
    # permissions of `consent_lists`); before a plan that made `consent_lists`, the ledger's view itself.
    ledger: exp.Expression | None = None
    if (SYNC_DATASET, "consent_lists") in present and (SYNC_DATASET, "consent_ledger") in present:
        ledger = ledger_query(
            inputs.get(LEDGER_INPUTS[0], {}),
            inputs.get(LEDGER_INPUTS[1], {}),
            exp.maybe_parse(f"{SYNC_DATASET}.norm(?)", dialect=models.READ_DIALECT),
        )
    parts: dict[str, list[Row]] = {}
    for part in PARTS:
        tables = dict(missing)
        if part in CONTACT_PARTS:
            tables[f"{VIEWS_DATASET}.contacts"] = _contacts_found(parts["contacts"])
        try:
            if part == "consent" and ledger is not None:
                # The view read as a whole fails where a table it reads was loaded again with other
                # columns: the person's own ledger is refused alike (binding the view reads no row).
                run(models.render("ledger_readable", dialect, folder=STATEMENTS), 0)
            columns, rows = run(*_rendered(part, dialect, tables, ledger))
        except Exception as exc:  # the engine's error: DuckDB's, or the SQL client's
            from pipelines.warehouse_reader import database_error

            if isinstance(exc, CommandError) or not database_error(exc):
                raise
            from pipelines.sql_access import first_line

            raise CommandError(
                f"cannot read what the warehouse holds for the {part} of the story: {first_line(exc)}. "
                "If a table the sync's views read was loaded again with other columns, `mailjet-elt plan` "
                "makes those views again",
                EXIT_FAILURE,
            ) from None
        parts[part] = [dict(zip(columns, row, strict=True)) for row in rows]
    return Story(email.strip(), parts, planned=(SYNC_DATASET, "sync_runs") in present)


def _rendered(
    part: str, dialect: str, tables: dict[str, models.Relation], ledger: exp.Expression | None
) -> tuple[str, int]:
    """The part's statement in `dialect` and how many parameters it takes (each the email), the relations
    of `tables` in the place of theirs (the missing sync relations read as empty, the person's contacts).
    The consent part reads `person_current`: the query of consent_current.sql over the person's own
    events; and `ledger` (the person's own, see `_story`; the relations of `tables` in the place of its
    own), when given, in the place of the ledger's view."""
    if part != "consent":
        tree = models.replace_tables(models.statement(part, STATEMENTS), tables)
        return models.to_sql(tree, dialect), models.placeholders(tree)
    current = models.statement("consent_current").expression
    tree = models.replace_tables(
        models.statement(part, STATEMENTS),
        {
            **tables,
            **(
                {}
                if ledger is None
                else {f"{SYNC_DATASET}.consent_ledger": models.replace_tables(ledger, tables)}
            ),
            "person_current": models.replace_tables(current, {f"{SYNC_DATASET}.consent_ledger": "events"}),
        },
    )
    return models.to_sql(tree, dialect), models.placeholders(tree)


def _contacts_found(rows: list[Row]) -> exp.Select:
    """`mailjet.contacts` kept to the contacts of these IDs (the contacts part's rows): the parts that read
    the person's contacts again find them by ID rather than by normalizing every contact's address (their
    own comparison of the address still applies)."""
    ids = [row["id"] for row in rows]
    known: exp.Expression = exp.column("id").isin(*(exp.Literal.number(int(i)) for i in ids if i is not None))
    if not any(i is not None for i in ids):
        known = exp.false()
    if any(i is None for i in ids):
        known = exp.Or(this=known, expression=exp.column("id").is_(exp.null()))
    return exp.select("*").from_(f"{VIEWS_DATASET}.contacts").where(known)


# What each action and outcome reads as.
ACTIONS = {"addnoforce": "subscribe", "unsub": "unsubscribe", "remove": "remove", "update": "update"}


def render_story(story: Story, fmt: str) -> str:
    """The story as text, or as one JSON document (`{"result": "explain", "at", "exit_code", "email", ...}`:
    one list of rows per part, timestamps in ISO 8601)."""
    if fmt == "json":
        from pipelines.logs import now_text

        document: dict[str, Any] = {
            "result": "explain",
            "at": now_text(),
            "exit_code": 0,
            "email": story.email,
        }
        document.update({part: [_plain(row) for row in rows] for part, rows in story.parts.items()})
        document["engagement"] = document["engagement"][0] if document["engagement"] else None
        return json.dumps(document, ensure_ascii=False)
    return "\n".join(_text(story))


def _plain(row: Row) -> Row:
    return {k: _json_value(v) for k, v in row.items()}


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return _utc(value).isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _utc(value: datetime) -> datetime:
    """A zoned time in UTC (the engine gives it in its session's zone); a naive one as it is."""
    return value.astimezone(UTC) if value.utcoffset() is not None else value


def _when(value: Any, missing: str = "undated") -> str:
    if isinstance(value, datetime):
        return _utc(value).strftime("%Y-%m-%d %H:%M UTC") if value.utcoffset() is not None else str(value)
    return missing if value is None else str(value)


def _list(list_id: Any, name: Any) -> str:
    if list_id is None and name is None:
        return ""
    return f"{name} ({list_id})" if name else f"list {list_id}"


def _text(story: Story) -> list[str]:
    p = story.parts
    out = [story.email]
    if not story.known:
        out.append("  Nothing in this warehouse is about this address (compared as the sync normalizes it).")
    out.append("Mailjet contacts:")
    out += [
        f"  {c['id']}  {c['email']}"
        + (f"  {c['name']}" if c.get("name") else "")
        + f"  created {_when(c['created_at'])}  from {c['_source']}"
        for c in p["contacts"]
    ] or ["  none"]
    out.append("Consent, oldest first (* in force):")
    out += [
        f"  {'*' if e['in_force'] else ' '} {_when(e['at']):<20}  "
        f"{e['permission'] or '(no permission)':<18}  "
        f"{'granted' if e['granted'] else 'withdrawn':<9}  {e['source']}"
        + (f", {_list(e['list_id'], e['list_name'])}" if e["list_id"] is not None else "")
        for e in p["consent"]
    ] or ["  none" + ("" if story.planned else " (the ledger is made by the first `plan`)")]
    out.append("Suppressed (no list may receive them):")
    out += [f"  {s['reason']}  {_when(s['at'])}  ({s['source']})" for s in p["suppression"]] or ["  no"]
    out.append("Memberships:")
    out += [_membership(m) for m in p["memberships"]] or ["  none"]
    out.append("Decisions of plans, oldest first:")
    out += [_decision(d) for d in p["decisions"]] or ["  none"]
    out.append("Left out or refused:")
    out += [
        f"  run {r['run_id']}  {_when(r['at'])}  {r['audience']}  {r['stage']}: {r['reason']}"
        + (f" ({r['detail']})" if r.get("detail") else "")
        for r in p["rejections"]
    ] or ["  never"]
    engaged = (p["engagement"] or [{}])[0]
    out.append(
        f"Engagement: {engaged.get('messages') or 0} message(s), last sent "
        f"{_when(engaged.get('last_message_at'), 'never')}; {engaged.get('opens') or 0} open(s), last "
        f"{_when(engaged.get('last_open_at'), 'never')}; {engaged.get('clicks') or 0} click(s), last "
        f"{_when(engaged.get('last_click_at'), 'never')}"
    )
    return out


def _membership(m: Row) -> str:
    state = (
        f"unsubscribed {_when(m['unsubscribed_at'])}"
        if m["is_unsubscribed"]
        else f"subscribed {_when(m['subscribed_at'])}"
    )
    if m["audience"] is None:
        made = "not made by the sync" + ("" if m["_source"] == "api" else f" (from {m['_source']})")
    elif m["last_action"] == "addnoforce":
        made = (
            f"made by the sync: audience {m['audience']}, run {m['last_run_id']}, "
            f"since {_when(m['managed_since'])}"
        )
    elif m["last_action"] == "released":
        made = (
            f"made by the sync (audience {m['audience']}), then changed outside it: released in run "
            f"{m['last_run_id']}"
        )
    else:
        action = ACTIONS.get(m["last_action"], m["last_action"])
        made = f"the sync's last action: {action} in run {m['last_run_id']} (audience {m['audience']})"
    return f"  {_list(m['list_id'], m['list_name'])}: {state}; {made}"


def _decision(d: Row) -> str:
    action = ACTIONS.get(d["action"], d["action"])
    line = (
        f"  run {d['run_id']}  {_when(d['planned_at'])}  {d['audience']} -> "
        f"{_list(d['list_id'], d['list_name'])}: {action} ({d['action']}), reason {d['reason']}"
    )
    if d.get("evidence"):
        line += f"; evidence: {d['evidence']}"
    if d["outcome"] is not None:
        line += f"; applied: job {d['job_id']}, {d['outcome']} {_when(d['applied_at'])}"
        if d.get("error"):
            line += f" ({d['error']})"
    else:
        line += f"; not applied (run {d['run_status']})"
    return line
