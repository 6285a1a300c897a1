"""`mailjet-elt run`: the scheduled job (extract, plan, apply)."""

from __future__ import annotations

import argparse
from contextlib import suppress
from typing import TYPE_CHECKING

from pipelines.cli.helptext import DONE, FAILED, STOPPED, USAGE, add_command
from pipelines.cli.options import After, Commands, add_format
from pipelines.errors import EXIT_FAILURE
from pipelines.interrupts import Interrupted, InterruptHandler, signal_exit_code

if TYPE_CHECKING:
    from pipelines.run import RunSteps

NAME = "run"


def add(commands: Commands, after: After) -> None:
    """The command's arguments."""
    run = add_command(
        commands,
        NAME,
        parents=after,
        summary="the scheduled job: extract, then plan, then apply",
        description="The job to schedule: extract, then plan, then apply, as one unit holding the writer "
        "lock throughout. Each step logs one line as it finishes. The first step that fails ends it with "
        "its exit code; a rerun resumes. With --format json the result document is written however it "
        "ends: the steps done, the failing step, its message and the exit code.",
        examples=[
            "run --yes",
            "--log-format json run --yes --format json >> run.log 2>&1",
        ],
        exits=[DONE, FAILED, USAGE, ("3", "a guard stopped the apply, nothing sent: read the plan"), STOPPED],
    )
    run.add_argument(
        "--audiences",
        default=None,
        metavar="PATH",
        help="the audiences file (default ./audiences.sql when present, else the shipped one)",
    )
    run.add_argument(
        "--yes", action="store_true", help="do not ask before sending (needed without a terminal)"
    )
    add_format(run)


def handle(args: argparse.Namespace, stop: InterruptHandler) -> object:
    """The run, each step's summary logged as it finishes; however it ends, its result document
    (`--format json`) or the steps it finished (text) on stdout."""
    from pipelines.cli.failures import explain
    from pipelines.logs import console
    from pipelines.progress import ExtractProgress
    from pipelines.run import RunSteps, run
    from pipelines.run_report import step_line

    steps = RunSteps(finished=lambda step, result: console().info(step_line(step, result)))
    try:
        return run(
            db=args.db,
            destination=args.destination,
            audiences=args.audiences,
            yes=args.yes,
            progress=ExtractProgress(),
            interrupts=stop,
            lock_wait=args.lock_wait,
            steps=steps,
        )
    except Interrupted as exc:
        code = signal_exit_code(exc.signum)
        _failed(args, steps, code, f"interrupted by signal {exc.signum}; rerun `run` to resume", stopped=True)
        raise
    except Exception as exc:
        explained = explain(exc, NAME, args.destination)
        if explained is None:  # a bug: the document (its kind only: a driver's text may hold a secret),
            _failed(args, steps, EXIT_FAILURE, f"{type(exc).__name__} (the traceback is on stderr)")
            raise  # then its traceback
        message, code = explained
        console().error(f"mailjet-elt run: {message}")
        _failed(args, steps, code, message)
        return code


def _failed(
    args: argparse.Namespace, steps: RunSteps, code: int, message: str, stopped: bool = False
) -> None:
    """What a run that did not finish writes on stdout: its result document, or the steps it finished."""
    import json

    from pipelines.errors import StdoutClosed, write_out
    from pipelines.run_report import failure_text, run_document

    # Whoever read stdout may be gone: the failure's own exit code and message still stand.
    with suppress(StdoutClosed):
        if args.format == "json":
            document = run_document(steps.started_at, steps.done, code, steps.failing, message, stopped)
            write_out(json.dumps(document, ensure_ascii=False) + "\n")
        elif steps.done:
            write_out(failure_text(steps, message) + "\n")
