"""`mailjet-elt run`: the scheduled job: `extract`, then `plan` (every audience), then `apply`, as one unit:
the writer lock is taken once and held from the extract to the end of the apply, so that no other writer
(another `run` above all) gets in between the steps: a plan is always applied on the data it read, and a
second `run` waits, then finds the first one's changes in its own extract. Each step is the command of
the same name, with its resume and its guards; a step that fails stops the run with its own exit status
(a guard's stop: 3). Run twice with nothing changed, the second run plans nothing and sends nothing.
What each step did is kept as it finishes (`RunSteps`), so that a run that fails still reports the steps
it finished and names the one that failed."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pipelines.apply import ApplyResult, apply
from pipelines.extract import ExtractResult, extract
from pipelines.interrupts import InterruptHandler
from pipelines.logs import console
from pipelines.plan import PlanResult, plan
from pipelines.progress import ExtractProgress
from pipelines.run_report import STEPS, Step
from pipelines.settings import DEFAULT_LOCK_WAIT_SECONDS
from pipelines.warehouse import holding


@dataclass
class RunSteps:
    """What a run has done so far: when it started, the step under way, and each finished step's result
    (`finished` is told of each as it comes)."""

    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    current: Step = "lock"
    done: dict[str, Any] = field(default_factory=dict)
    finished: Callable[[str, Any], None] | None = None

    def start(self, step: Step) -> None:
        self.current = step

    def finish(self, step: Step, result: Any) -> None:
        self.done[step] = result
        if self.finished is not None:
            self.finished(step, result)

    @property
    def failing(self) -> Step:
        """The step a failure now belongs to: the first one not finished (`lock` before any started, or
        once all have: the lock is what is left)."""
        if self.current == "lock":
            return "lock"
        return next((s for s in STEPS if s not in self.done), "lock")


@dataclass(frozen=True)
class RunResult:
    """What each step did."""

    extract: ExtractResult
    plan: PlanResult
    apply: ApplyResult
    started_at: datetime | None = None

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
    steps: RunSteps | None = None,
) -> RunResult:
    """Extract, plan and apply under one hold of the writer lock; what each step did, or the
    CommandError of the step that failed. `sleep`: apply's waits between the reads of a list that does not
    show a job's changes yet. `steps`: kept up to date as the run goes (the step under way when it fails)."""
    stop = interrupts or InterruptHandler("run")
    steps = steps or RunSteps()
    with holding(db, destination, "run", lock_wait, _say) as held:
        steps.start("extract")
        extracted = extract(
            db=db, destination=destination, progress=progress, interrupts=stop, lock_wait=lock_wait, held=held
        )
        steps.finish("extract", extracted)
        steps.start("plan")
        planned = plan(
            db=db,
            destination=destination,
            audiences=audiences,
            interrupts=stop,
            lock_wait=lock_wait,
            held=held,
        )
        steps.finish("plan", planned)
        steps.start("apply")
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
        steps.finish("apply", applied)
    return RunResult(extracted, planned, applied, steps.started_at)


def _say(text: str) -> None:
    console().warning(f"mailjet-elt run: {text}")
