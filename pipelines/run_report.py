"""What a scheduled `run` tells its log: one line per step as the step finishes, and one result document
written however the run ends (done, failed, stopped by a signal), with every step it finished, the step
that failed, its message and the exit status. Pure: plain results in, text and dicts out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from pipelines.apply import ApplyResult
    from pipelines.extract import ExtractResult
    from pipelines.plan import PlanResult
    from pipelines.run import RunSteps
    from pipelines.sync.plan import AudiencePlan
    from pipelines.sync.runs import AppliedRun

Status = Literal["ok", "failed", "stopped"]
Step = Literal["lock", "extract", "plan", "apply"]  # "lock": waiting for the writer lock, before any step
STEPS: tuple[Step, ...] = ("extract", "plan", "apply")
SHORT = {"addnoforce": "subscribe", "unsub": "unsubscribe", "remove": "remove", "update": "update"}


def step_line(step: str, result: Any) -> str:
    """The one line that says what a finished step did."""
    if step == "extract":
        return _extract_line(result)
    if step == "plan":
        return _plan_line(result)
    return _apply_line(result)


def _extract_line(result: ExtractResult) -> str:
    return (
        f"run: extract done: {result.rows:,} rows in {len(result.tables)} tables, "
        f"{result.requests:,} API requests, {result.seconds:.1f} s"
    )


def _plan_line(result: PlanResult) -> str:
    return f"run: plan done: {planned_counts(result.plans)}; {result.seconds:.1f} s"


def planned_counts(plans: Sequence[AudiencePlan]) -> str:
    """Each audience's planned changes, in a line."""
    audiences = []
    for item in plans:
        counts = ", ".join(
            f"{word} {sum(item.actions[action].values()):,}"
            for action, word in SHORT.items()
            if item.actions.get(action)
        )
        audiences.append(f"{item.audience}: {counts or 'nothing to send'}{' (STOP)' if item.stopped else ''}")
    return "; ".join(audiences) or "no audience"


def _apply_line(result: ApplyResult) -> str:
    figures = f"{result.jobs:,} jobs, {result.requests:,} requests, {result.seconds:.1f} s"
    return f"run: apply done: {applied_counts(result.runs)}; {figures}"


def applied_counts(runs: Sequence[AppliedRun]) -> str:
    """How each audience's run was applied, in a line."""
    said = [
        f"{r.audience}: {r.status} ({sum(r.done.values()):,} confirmed"
        + (f", {sum(r.refused.values()):,} refused" if r.refused else "")
        + (f", {r.failed:,} failed" if r.failed else "")
        + ")"
        for r in runs
    ]
    return "; ".join(said) or "nothing to send"


def partial_apply(result: ApplyResult) -> str:
    """Why an apply that ran to its end exits 1: Mailjet did not confirm every change."""
    return (
        f"Mailjet did not confirm every change: {applied_counts(result.runs)}; the next plan plans the rest "
        "again (mailjet_sync.sync_changelog)"
    )


def run_document(
    started_at: datetime | None,
    done: dict[str, Any],
    exit_code: int,
    failed_step: str | None = None,
    error: str | None = None,
    stopped: bool = False,
) -> dict[str, Any]:
    """The result document of a run: the same keys however it ended. A step it did not finish is null;
    `failed_step` and `error` are null when no step failed."""
    from pipelines.report import document

    status: Status = "stopped" if stopped else "ok" if exit_code == 0 and failed_step is None else "failed"
    finished = datetime.now(UTC)
    return {
        "result": "run",
        "at": finished.isoformat(timespec="milliseconds"),
        "started_at": None if started_at is None else started_at.isoformat(timespec="milliseconds"),
        "seconds": None if started_at is None else round((finished - started_at).total_seconds(), 3),
        "status": status,
        "exit_code": exit_code,
        "failed_step": failed_step,
        "error": error,
        **{step: document(done[step]) if step in done else None for step in STEPS},
    }


def failure_text(steps: RunSteps, error: str) -> str:
    """A failed run as a person reads it on stdout: the steps it finished, then which one failed and why
    (the message itself is on stderr too, as every command's error is)."""
    from pipelines.report import text

    parts = [f"== {step}\n{text(steps.done[step])}" for step in STEPS if step in steps.done]
    parts.append(f"== {steps.failing}: FAILED\n{error}")
    return "\n\n".join(parts)
