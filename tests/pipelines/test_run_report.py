"""What a scheduled `run` reports, from plain results: one line per finished step, and one result document
of the same shape however the run ends. And `plan` exits 3 when a guard stops a plan, as `apply` does."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from pipelines.apply import ApplyResult
from pipelines.extract import ExtractResult, TableCount
from pipelines.plan import PlanResult
from pipelines.report import as_json
from pipelines.run import RunResult, RunSteps
from pipelines.run_report import failure_text, run_document, step_line
from pipelines.sync.guards import Guard
from pipelines.sync.plan import AudiencePlan
from pipelines.sync.runs import AppliedRun

EXTRACTED = ExtractResult(
    tables=[TableCount("contacts", 40), TableCount("messages", 2)],
    requests=23,
    retries={},
    seconds=1.25,
    database="w.duckdb",
)


def audience_plan(name: str, verdict: str = "ok") -> AudiencePlan:
    return AudiencePlan(
        run_id=1,
        audience=name,
        list_ref="News",
        list_id=7,
        list_name="News",
        permission="email_newsletter",
        on_exit="remove",
        audience_rows=10,
        list_members=8,
        actions={"addnoforce": {"joined_audience": 3}, "remove": {"left_audience": 1}},
        rejected={},
        held_back={},
        consent_rejected={},
        samples={},
        guards=[Guard("max_removal_pct", verdict, "1 of 8")],  # type: ignore[arg-type]
        data_as_of=None,
    )


def planned(*verdicts: str) -> PlanResult:
    plans = [audience_plan(f"a{i}", v) for i, v in enumerate(verdicts)]
    return PlanResult(audiences_file="audiences.sql", plans=plans, seconds=0.5, database="w.duckdb")


APPLIED = ApplyResult(
    runs=[AppliedRun(1, "a0", 7, "News", False, {"addnoforce": 3}, {"bad address": 1}, 0, 0, "partial")],
    jobs=2,
    requests=9,
    seconds=0.75,
    database="w.duckdb",
)


@pytest.mark.unit
def test_each_finished_step_is_one_line_with_its_figures() -> None:
    assert step_line("extract", EXTRACTED) == (
        "run: extract done: 42 rows in 2 tables, 23 API requests, 1.2 s"
    )
    assert step_line("plan", planned("ok", "stop")) == (
        "run: plan done: a0: subscribe 3, remove 1; a1: subscribe 3, remove 1 (STOP); 0.5 s"
    )
    assert step_line("apply", APPLIED) == (
        "run: apply done: a0: partial (3 confirmed, 1 refused); 2 jobs, 9 requests, 0.8 s"
    )


@pytest.mark.unit
def test_a_failed_run_documents_the_steps_it_finished_and_the_one_that_failed() -> None:
    started = datetime.now(UTC) - timedelta(seconds=5)
    steps = RunSteps(started_at=started)
    steps.start("extract")
    steps.finish("extract", EXTRACTED)
    steps.start("plan")
    document = run_document(started, steps.done, 2, steps.current, "bad.sql:1: no list")
    assert {k: document[k] for k in ("result", "status", "exit_code", "failed_step", "error")} == {
        "result": "run",
        "status": "failed",
        "exit_code": 2,
        "failed_step": "plan",
        "error": "bad.sql:1: no list",
    }
    assert document["extract"]["rows"] == 42 and document["extract"]["requests"] == 23
    assert document["plan"] is None and document["apply"] is None
    assert document["seconds"] >= 5 and document["started_at"] == started.isoformat(timespec="milliseconds")
    assert datetime.fromisoformat(document["at"]) >= started
    shown = failure_text(steps, "bad.sql:1: no list")
    assert shown.startswith("== extract\nExtracted 42 rows") and shown.endswith(
        "== plan: FAILED\nbad.sql:1: no list"
    )


@pytest.mark.unit
def test_a_finished_run_and_a_stopped_one_have_the_same_keys() -> None:
    done = run_document(None, {"extract": EXTRACTED, "plan": planned("ok"), "apply": APPLIED}, 1)
    stopped = run_document(None, {}, 143, "lock", "interrupted by signal 15", stopped=True)
    assert done.keys() == stopped.keys()
    assert (done["status"], done["failed_step"], done["error"]) == ("failed", None, None)  # apply's exit 1
    assert (stopped["status"], stopped["exit_code"], stopped["extract"]) == ("stopped", 143, None)
    assert done["apply"]["runs"][0]["status"] == "partial"


@pytest.mark.unit
def test_every_result_document_says_when_it_was_written_and_its_exit_status() -> None:
    before = datetime.now(UTC)
    result = RunResult(EXTRACTED, planned("ok"), APPLIED, before)
    run = json.loads(as_json(result))
    assert (run["result"], run["status"], run["exit_code"], run["failed_step"]) == (
        "run",
        "failed",
        1,
        "apply",
    )
    assert run["error"].startswith(
        "Mailjet did not confirm every change: a0: partial (3 confirmed, 1 refused)"
    )
    plan = json.loads(as_json(planned("ok")))
    assert list(plan)[:3] == ["result", "at", "exit_code"] and plan["exit_code"] == 0
    assert datetime.fromisoformat(plan["at"]) >= before - timedelta(milliseconds=1)  # written to the ms
    assert json.loads(as_json(EXTRACTED))["exit_code"] == 0


@pytest.mark.unit
def test_plan_exits_3_when_a_guard_stops_a_plan_as_apply_does() -> None:
    assert planned("ok", "held").exit_code == 0
    assert planned("ok", "stop").exit_code == 3
    assert json.loads(as_json(planned("stop")))["exit_code"] == 3


@pytest.mark.unit
def test_a_failure_belongs_to_the_first_step_not_finished() -> None:
    steps = RunSteps()
    assert steps.failing == "lock"  # before any step: waiting for the writer lock
    steps.start("extract")
    assert steps.failing == "extract"
    steps.finish("extract", EXTRACTED)
    assert steps.failing == "plan"  # a signal between two steps: the next one's
    for step in ("plan", "apply"):
        steps.start(step)  # type: ignore[arg-type]
        steps.finish(step, object())  # type: ignore[arg-type]
    assert steps.failing == "lock"  # every step done: what is left is letting go of the lock
