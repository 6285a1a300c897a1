"""Results of the commands as text for people or one JSON document for machines (on stdout)."""

from __future__ import annotations

import dataclasses
import json
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pipelines.settings import DEFAULT_DB

if TYPE_CHECKING:  # the renderers go by the result's class name: no flow is imported to print its result
    from pipelines.api import ApiResult, CheckResult
    from pipelines.apply import ApplyResult
    from pipelines.check_writes import WritesCheckResult
    from pipelines.extract import ExtractResult
    from pipelines.import_csv import FileImport, ImportResult
    from pipelines.load import LoadResult
    from pipelines.plan import PlanResult
    from pipelines.run import RunResult
    from pipelines.sync.plan import AudiencePlan
    from pipelines.webhooks import RegisterResult

Format = Literal["text", "json"]


def render(result: Any, fmt: Format = "text") -> str:
    """`result` as text, or as one JSON object naming its kind (`"result": "extract"`, ...)."""
    if fmt == "json":
        return as_json(result)
    return text(result)


def as_json(result: Any) -> str:
    """One JSON document, which says when it was written (`at`) and the command's exit status; an API
    answer is printed as Mailjet sent it."""
    kind = type(result).__name__
    if kind == "ApiResult":
        return json.dumps(result.answer, ensure_ascii=False)
    if kind == "RunResult":
        from pipelines.run_report import partial_apply, run_document

        steps = {"extract": result.extract, "plan": result.plan, "apply": result.apply}
        failed, error = (None, None) if result.exit_code == 0 else ("apply", partial_apply(result.apply))
        return json.dumps(
            run_document(result.started_at, steps, result.exit_code, failed, error), ensure_ascii=False
        )
    from pipelines.logs import now_text

    stamped = {"at": now_text(), "exit_code": int(getattr(result, "exit_code", 0))}
    whole = document(result)
    return json.dumps({"result": whole.pop("result"), **stamped, **whole}, ensure_ascii=False)


def document(result: Any) -> dict[str, Any]:
    """A result as a JSON object naming its kind (`"result": "extract"`, ...)."""
    kind = type(result).__name__
    whole: dict[str, Any] = {"result": KINDS[kind], **dataclasses.asdict(result)}
    if kind == "ExtractResult":
        whole["rows"] = result.rows
    if kind == "ImportResult":
        whole["rejected"] = result.rejected
    return whole


def program() -> str:
    """`mailjet-elt` as the user ran it (`.venv/bin/mailjet-elt`), for commands they can paste."""
    ran = sys.argv[0] if sys.argv else ""
    return shlex.quote(ran) if Path(ran).name == "mailjet-elt" else "mailjet-elt"


def sql_hint(database: str, query: str) -> str:
    """The `mailjet-elt sql` command line that runs `query` on `database`, as the user can paste it:
    the program as they ran it, `--db` when it is not the default."""
    words = [*([] if database == DEFAULT_DB else [f"--db={database}"]), "sql", query]
    return " ".join([program(), *(shlex.quote(w) for w in words)])


R = TypeVar("R")
RENDERERS: dict[str, Callable[[Any], str]] = {}


def renders(kind: str) -> Callable[[Callable[[R], str]], Callable[[R], str]]:
    """Register the text rendering of the result class named `kind`."""

    def register(render_: Callable[[R], str]) -> Callable[[R], str]:
        RENDERERS[kind] = render_
        return render_

    return register


def text(result: Any) -> str:
    """A result as the lines a person reads."""
    render_ = RENDERERS.get(type(result).__name__)
    if render_ is None:
        raise TypeError(f"no text rendering for {type(result).__name__}")
    return render_(result)


@renders("ExtractResult")
def _extract_result(result: ExtractResult) -> str:
    total, seconds = result.rows, result.seconds
    lines = [*result.resumed]
    lines.append(f"Extracted {total:,} rows in {seconds:.1f} s ({total / max(seconds, 1e-9):,.0f} rows/s)")
    for table in result.tables:
        note = ""
        if table.replaced and table.previous is not None and table.previous != table.rows:
            note = f" (replaced; {table.previous:,} before)"
        lines.append(f"  {table.name:<30} {table.rows:>10,} rows{note}")
    retries = result.retries
    retried = ", ".join(f"{n} x {why}" for why, n in sorted(retries.items())) if retries else "none"
    lines.append(f"API requests: {result.requests:,} (retries: {retried})")
    if result.database is not None:
        # A table this run loaded (contacts when it did): the hint runs as printed.
        loaded = [t.name for t in result.tables if t.rows] or [t.name for t in result.tables]
        name = "contacts" if "contacts" in loaded else loaded[0] if loaded else "contacts"
        lines.append(f"Query it: {sql_hint(result.database, f'select count(*) from mailjet.{name}')}")
    lines.extend(f"note: {n}" for n in result.notes)
    return "\n".join(lines)


@renders("ImportResult")
def _import_result(result: ImportResult) -> str:
    lines = [*result.resumed, *(f"note: {n}" for n in result.notes)]
    for done in result.files:
        lines.extend(_file_lines(done))
    if result.rejected and result.database:
        query = "select * from mailjet.csv_rejections order by file, line"
        lines.append(f"Rejected rows: {sql_hint(result.database, query)}")
    return "\n".join(lines)


def _file_lines(done: FileImport) -> list[str]:
    out = [
        f"{done.file}: {done.encoding}, {done.delimiter}-separated; {done.rows_read:,} rows read in "
        f"{done.seconds:.1f} s",
        f"  contacts {done.contacts:,} · property values {done.property_values:,}"
        + (f" · memberships of list {done.list_name} {done.contacts:,}" if done.list_name else ""),
    ]
    if done.rejected:
        parts = [
            f"{done.malformed:,} malformed (field count, encoding or quoting)" if done.malformed else "",
            f"{done.invalid:,} invalid" if done.invalid else "",
            f"{done.duplicates:,} duplicate email{_s(done.duplicates)} (first row kept)"
            if done.duplicates
            else "",
        ]
        out.append(
            f"  rejected {done.rejected:,}: {', '.join(p for p in parts if p)} -> mailjet.csv_rejections"
        )
    if done.ignored_status_columns:
        named = ", ".join(repr(c) for c in done.ignored_status_columns)
        out.append(f"  subscription status ({named}) ignored: pass --list to record list memberships")
    if done.padded_rows:
        out.append(f"  {done.padded_rows:,} short rows completed with empty cells (--pad-short-rows)")
    return out


@renders("LoadResult")
def _load_result(result: LoadResult) -> str:
    how = "added to its rows" if result.appended else "the table replaced"
    lines = [*result.resumed]
    lines.append(
        f"Loaded {result.rows:,} rows ({len(result.columns)} columns) from {result.file} into {result.table} "
        f"({how}) in {result.seconds:.1f} s"
    )
    if result.retyped:
        lines.append(f"Columns whose type the file changed: {', '.join(result.retyped)}")
    if result.database is not None:
        lines.append(f"Query it: {sql_hint(result.database, f'select * from {result.table} limit 10')}")
    return "\n".join(lines)


ACTION_WORDS = {
    "addnoforce": "subscribe (addnoforce)",
    "unsub": "unsubscribe (unsub)",
    "remove": "remove from list",
    "update": "update properties",
}
REASON_WORDS = {
    "joined_audience": "joined the audience",
    "consent_withdrawn": "consent withdrawn after they subscribed",
    "left_audience": "left the audience (added by it)",
    "no_consent": "no consent for the list's permission",
    "excluded_from_campaigns": "excluded from campaigns in Mailjet",
    "spam_complaint": "reported spam",
    "hard_bounce": "hard bounce",
    "properties_changed": "properties changed",
    "unsubscribed_in_mailjet": "unsubscribed from the list in Mailjet (never re-added)",
    "missing_email": "no email",
    "invalid_email": "invalid email",
    "duplicate_email": "duplicate email",
    "no_permission": "no permission",
    "no_date": "no date",
    "no_granted": "granted left empty",
    "unknown_permission": "a withdrawal of a permission no audience declares",
}


@renders("PlanResult")
def _plan_result(result: PlanResult) -> str:
    lines = [*result.resumed, f"Plan from {result.audiences_file}: nothing has been sent to Mailjet."]
    lines += result.superseded
    for item in result.plans:
        lines += ["", *_audience_lines(item)]
    stopped = [p for p in result.plans if p.stopped]
    lines.append("")
    for forced, unless in ((True, " unless forced"), (False, ", even forced")):
        names = [p.audience for p in stopped if _forceable(p) is forced]
        if names:
            lines.append(
                f"A guard stops {', '.join(names)}: apply will not send "
                f"{'it' if len(names) == 1 else 'them'}{unless} (see above)."
            )
    lines.append(
        "Every planned row, with its reason and evidence: mailjet_sync.sync_plan; people left out: "
        "mailjet_sync.sync_rejections."
    )
    return "\n".join(lines)


def _forceable(item: AudiencePlan) -> bool:
    """Whether --force may send past every stop of the plan (a stop that is not forceable: never)."""
    return all(g.forceable for g in item.guards if g.verdict == "stop")


def _reasons(counts: dict[str, int]) -> str:
    if len(counts) == 1:
        return REASON_WORDS.get(next(iter(counts)), next(iter(counts)))
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{REASON_WORDS.get(r, r)} {n:,}" for r, n in ordered)


def _audience_lines(item: AudiencePlan) -> list[str]:
    if item.list_id is None and item.data_as_of is None:
        target = f'list "{item.list_ref}" (not read yet: Mailjet was never extracted)'
    elif item.list_id is None:
        target = f'list "{item.list_ref}" (not in Mailjet yet: apply creates it)'
    else:
        target = f'list "{item.list_name}" (ID {item.list_id}, {item.list_members:,} subscribed)'
    consent = f"needs consent {item.permission}" if item.permission else "no permission declared"
    lines = [f"{item.audience} -> {target}", f"  run {item.run_id}; {consent}; on leaving: {item.on_exit}"]
    if item.shared_by:
        lists = ", ".join(f'"{name}"' for name in item.shared_by)
        lines.append(
            f"  permission {item.permission} is shared by lists {lists}: an unsubscription from one "
            "withdraws consent for all"
        )
    lines.append(f"  audience: {item.audience_rows:,} row{_s(item.audience_rows)}")
    if item.rejected:
        lines.append(f"  rejected by data tests: {sum(item.rejected.values()):,} ({_reasons(item.rejected)})")
    if not item.actions:
        lines.append("  nothing to send to the list")
    for action in ("addnoforce", "unsub", "remove", "update"):
        reasons = item.actions.get(action)
        if not reasons:
            continue
        shown = ", ".join(item.samples.get(action, []))
        lines.append(f"  {ACTION_WORDS[action]:<24}{sum(reasons.values()):>9,}  {_reasons(reasons)}")
        if shown:
            lines.append(f"  {'':<24}{'':>9}  e.g. {shown}")
    if item.held_back:
        lines.append(
            f"  {'held back (not added)':<24}{sum(item.held_back.values()):>9,}  {_reasons(item.held_back)}"
        )
    if item.consent_rejected:
        n = sum(item.consent_rejected.values())
        lines.append(
            f"  CRM consent row{_s(n)} not used: {n:,} ({_reasons(item.consent_rejected)}; "
            "mailjet_sync.sync_rejections, stage consent)"
        )
    for guard in item.guards:
        mark = {"ok": "ok", "held": "HELD", "stop": "STOP"}.get(guard.verdict, guard.verdict)
        lines.append(f"  guard {guard.name}: {mark}: {guard.detail}")
    return lines


@renders("ApplyResult")
def _apply_result(result: ApplyResult) -> str:
    lines = [*result.resumed]
    for run in result.runs:
        created = " (created)" if run.list_created else ""
        sent = ", ".join(f"{ACTION_WORDS.get(a, a)} {n:,}" for a, n in sorted(run.done.items())) or "nothing"
        lines.append(f'{run.audience} -> list "{run.list_name}" (ID {run.list_id}){created}: {run.status}')
        lines.append(f"  confirmed by Mailjet: {sent}")
        for error, n in sorted(run.refused.items(), key=lambda kv: -kv[1]):
            lines.append(f"  refused by Mailjet: {n:,} ({error}); planned again by the next plan")
        if run.failed:
            lines.append(
                f"  failed, or not confirmed by their job: {run.failed:,}; planned again by the next plan"
            )
        if not run.mismatches and run.done:
            lines.append("  verified: the list, read again, shows every change Mailjet confirmed")
        if run.mismatches:
            shown = ", ".join(f"{m['email']} ({m['action']}, now {m['found']})" for m in run.mismatches[:3])
            lines.append(
                f"  NOT AS PLANNED when the list was read again: {len(run.mismatches):,}, e.g. {shown}; "
                "extract and plan again"
            )
        if run.skipped:
            lines.append(
                f"  removals passed over: {run.skipped:,} (unsubscribed since the plan: they stay, "
                "unsubscribed)"
            )
    for name in result.already:
        lines.append(
            f"{name}: its latest plan was applied already; nothing to send (plan again after an extract)"
        )
    lines.append(
        f"{result.jobs:,} job{_s(result.jobs)}, {result.requests:,} request{_s(result.requests)} in "
        f"{result.seconds:.1f} s. Every change: mailjet_sync.sync_changelog"
    )
    return "\n".join(lines)


@renders("RunResult")
def _run_result(result: RunResult) -> str:
    return "\n\n".join(
        [
            f"== extract\n{text(result.extract)}",
            f"== plan\n{text(result.plan)}",
            f"== apply\n{text(result.apply)}",
        ]
    )


@renders("RegisterResult")
def _register_result(result: RegisterResult) -> str:
    lines = [f"{'event':<9} {'action':<10} {'version':<8} {'status':<7} url"]
    for r in result.registrations:
        lines.append(f"{r.event:<9} {r.action:<10} {r.version:<8} {r.status:<7} {r.url}")
    changed = sum(1 for r in result.registrations if r.action != "unchanged")
    lines.append(
        f"{changed} of {len(result.registrations)} callback(s) created or updated with {result.requests} "
        "request(s); Mailjet now posts these events to the receiver"
    )
    return "\n".join(lines)


@renders("CheckResult")
def _check_result(result: CheckResult) -> str:
    sees = f"{result.contacts:,} contacts in {result.lists:,} lists"
    return f"OK: {result.base_url} answered; the key sees {sees}."


@renders("WritesCheckResult")
def _writes_check_result(result: WritesCheckResult) -> str:
    from pipelines.check_writes.readings import BEHAVIOURS

    lines = [f"Write check on {result.base_url} (scratch list {result.scratch_list}):"]
    for name, about in BEHAVIOURS.items():
        reading = result.readings.get(name)
        if reading is not None:
            lines.append(f"  {about:<40} {reading.reading}: {reading.detail}")
    if result.failed:
        lines.append(f"FAILED midway: {result.failed}")
    lines.extend(f"Cleaned up: {item}" for item in result.cleaned)
    lines.extend(f"Left behind: {item}" for item in result.left_behind)
    if not result.left_behind:
        lines.append("Left behind: nothing")
    elif any(item.startswith("contact ") for item in result.left_behind):
        lines.append(f"  (the contacts stay: {result.note})")
    lines.append(f"{result.requests:,} request{_s(result.requests)}.")
    return "\n".join(lines)


@renders("ApiResult")
def _api_result(result: ApiResult) -> str:
    if result.answer is None:
        return "(no content)"
    return json.dumps(result.answer, indent=2, ensure_ascii=False)


def _s(count: int) -> str:
    return "" if count == 1 else "s"


KINDS: dict[str, str] = {
    "ExtractResult": "extract",
    "ImportResult": "import-csv",
    "LoadResult": "load",
    "PlanResult": "plan",
    "ApplyResult": "apply",
    "RunResult": "run",
    "CheckResult": "check",
    "WritesCheckResult": "check --writes",
    "RegisterResult": "webhooks register",
}
