"""`mailjet-elt run`: the scheduled job: `extract`, then `plan` (every audience), then `apply`, as one unit:
the writer lock is taken once and held from the extract to the end of the apply, so that no other writer
(another `run` above all) gets in between the steps: a plan is always applied on the data it read, and a
second `run` waits, then finds the first one's changes in its own extract. Each step is the command of
the same name, with its resume and its guards; a step that fails stops the run with its own exit status
(a guard's stop: 3). Run twice with nothing changed, the second run plans nothing and sends nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from pipelines.apply import ApplyResult, apply
from pipelines.extract import ExtractResult, extract
from pipelines.interrupts import InterruptHandler
from pipelines.logs import console
from pipelines.plan import PlanResult, plan
from pipelines.progress import ExtractProgress
from pipelines.settings import DEFAULT_LOCK_WAIT_SECONDS
from pipelines.warehouse import holding


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
    sleep: Callable[[float], None] = time.sleep,
) -> RunResult:
    """Extract, plan and apply under one hold of the writer lock; what each step did, or the
    CommandError of the step that failed. `sleep`: apply's waits between the reads of a list that does not
    show a job's changes yet."""
    stop = interrupts or InterruptHandler("run")
    with holding(db, destination, "run", lock_wait, _say) as held:
        extracted = extract(
            db=db, destination=destination, progress=progress, interrupts=stop, lock_wait=lock_wait, held=held
        )
        planned = plan(
            db=db,
            destination=destination,
            audiences=audiences,
            interrupts=stop,
            lock_wait=lock_wait,
            held=held,
        )
        applied = apply(
            db=db,
            destination=destination,
            audiences=audiences,
            yes=yes,
            interrupts=stop,
            lock_wait=lock_wait,
            held=held,
            sleep=sleep,
        )
    return RunResult(extracted, planned, applied)


def _say(text: str) -> None:
    console().warning(f"mailjet-elt run: {text}")
