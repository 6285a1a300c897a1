"""`mailjet-elt run`: the scheduled job: `extract`, then `plan` (every audience), then `apply`. Each step is
the command of the same name, with its lock, its resume and its guards; a step that fails stops the run
with its own exit status (a guard's stop: 3). Run twice with nothing changed, the second run plans
nothing and sends nothing."""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.apply import ApplyResult, apply
from pipelines.extract import ExtractResult, extract
from pipelines.interrupts import InterruptHandler
from pipelines.plan import PlanResult, plan
from pipelines.progress import ExtractProgress
from pipelines.settings import DEFAULT_LOCK_WAIT_SECONDS


@dataclass(frozen=True)
class RunResult:
    """What each step did."""

    extract: ExtractResult
    plan: PlanResult
    apply: ApplyResult

    @property
    def exit_code(self) -> int:
        return self.apply.exit_code


def run(
    *,
    db: str,
    destination: str | None = None,
    audiences: str | None = None,
    yes: bool = False,
    progress: ExtractProgress | None = None,
    interrupts: InterruptHandler | None = None,
    lock_wait: float = DEFAULT_LOCK_WAIT_SECONDS,
) -> RunResult:
    """Extract, plan and apply; what each step did, or the CommandError of the step that failed."""
    stop = interrupts or InterruptHandler("run")
    extracted = extract(
        db=db, destination=destination, progress=progress, interrupts=stop, lock_wait=lock_wait
    )
    planned = plan(db=db, destination=destination, audiences=audiences, interrupts=stop, lock_wait=lock_wait)
    applied = apply(db=db, destination=destination, yes=yes, interrupts=stop, lock_wait=lock_wait)
    return RunResult(extracted, planned, applied)
