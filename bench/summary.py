"""One table of the figures the benches recorded: each figure beside its goal and the ratio (issue 27).

    .venv/bin/python bench/summary.py FILE

FILE holds the JSON lines the benches append (`common.Figures`) when `MAILJET_ELT_BENCH_FIGURES` names it;
`make bench` sets it to a fresh file and prints this table last. Each bench's figures sit under a line that
says which bench ran, with which arguments, and the load average at its start (the goals are set for an
idle machine). The ratio is measured / goal for an "at most" goal (<=) and goal / measured for an "at
least" goal (>=): at 1.00 or below the goal is met, above it the figure is OVER an at-most goal or UNDER an
at-least goal. A figure measured at another size than the one its goal is set for is marked `*`. Prints
figures; asserts nothing (it exits 0 whatever the verdicts)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NONE = "—"


@dataclass(frozen=True)
class Figure:
    figure: str
    value: float
    unit: str
    goal: float | None = None
    direction: str = "<="
    goal_for: str | None = None


@dataclass
class Run:
    """One bench's run: its name and arguments, the load average at its start, its figures."""

    bench: str
    args: str = ""
    load: float | None = None
    cores: int | None = None
    figures: list[Figure] = field(default_factory=list)


def ratio(fig: Figure) -> float | None:
    """measured / goal for an at-most goal, goal / measured for an at-least one (above 1: missed); None
    without a goal, or when the goal is 0 for an at-most goal (no ratio, the verdict still holds)."""
    if fig.goal is None:
        return None
    if fig.direction == "<=":
        return fig.value / fig.goal if fig.goal else None
    return fig.goal / fig.value if fig.value else math.inf


def verdict(fig: Figure) -> str:
    """ "met", "OVER" (an at-most goal missed), "UNDER" (an at-least goal missed); "" without a goal."""
    if fig.goal is None:
        return ""
    if math.isnan(fig.value):
        return "no value"
    if fig.direction == "<=":
        return "met" if fig.value <= fig.goal else "OVER"
    return "met" if fig.value >= fig.goal else "UNDER"


def number(value: float) -> str:
    """A figure as it reads best: thousands separated, two decimals below 10."""
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "inf"
    size = abs(value)
    if size >= 100:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if 0 < size < 0.01:
        return f"{value:.2g}"
    return f"{value:.2f}"


def with_unit(text: str, unit: str) -> str:
    return f"{text} {unit}" if unit else text


def read(path: Path) -> tuple[list[Run], int]:
    """The runs the file holds, in the order they started, and the number of lines it could not read (a
    bench killed while writing)."""
    runs: dict[str, Run] = {}
    unreadable = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            item: dict[str, Any] = json.loads(line)
            run = runs.setdefault(str(item["run"]), Run(str(item["bench"])))
            if item["event"] == "start":
                run.args = str(item.get("args", ""))
                load = item.get("load")
                run.load = float(load[0]) if load else None
                run.cores = item.get("cores")
            elif item["event"] == "figure":
                goal = item.get("goal")
                run.figures.append(
                    Figure(
                        figure=str(item["figure"]),
                        value=float(item["value"]),
                        unit=str(item.get("unit", "")),
                        goal=None if goal is None else float(goal),
                        direction=str(item.get("direction", "<=")),
                        goal_for=item.get("goal_for"),
                    )
                )
        except (ValueError, KeyError, TypeError, IndexError):
            unreadable += 1
    return list(runs.values()), unreadable


def heading(run: Run) -> str:
    load = "load average unknown" if run.load is None else f"load average {run.load:.2f} at its start"
    cores = f", {run.cores} cores" if run.cores else ""
    name = f"{run.bench} {run.args}".strip()
    return f"{name}  ({load}{cores})"


def table(runs: list[Run]) -> list[str]:
    """The table's lines: a heading per bench, then its figures, then a count of the verdicts."""
    figures = [f for run in runs for f in run.figures]
    width = max([len("figure"), *(len(f.figure) + 2 for f in figures)])
    measured = [with_unit(number(f.value), f.unit) for f in figures]
    goals = [
        NONE if f.goal is None else f"{f.direction} {with_unit(number(f.goal), f.unit)}" for f in figures
    ]
    value_width = max([len("measured"), *(len(m) for m in measured)])
    goal_width = max([len("goal"), *(len(g) for g in goals)])
    lines = [
        f"{'figure':<{width}}  {'measured':>{value_width}}  {'goal':>{goal_width}}  {'ratio':>6}  verdict",
    ]
    marked: dict[str, set[str]] = {}
    shown = 0
    for run in runs:
        lines.append(heading(run))
        if not run.figures:
            lines.append(f"  no figures recorded (did {run.bench} fail?)")
        for fig in run.figures:
            found = ratio(fig)
            said = verdict(fig)
            if fig.goal_for and said:
                said += " *"
                marked.setdefault(fig.goal_for, set()).add(run.bench)
            shown_ratio = NONE if found is None else number(found) if math.isinf(found) else f"{found:.2f}"
            cells = f"{measured[shown]:>{value_width}}  {goals[shown]:>{goal_width}}  {shown_ratio:>6}"
            lines.append(f"  {fig.figure:<{width - 2}}  {cells}  {said}".rstrip())
            shown += 1
    verdicts = [verdict(f) for run in runs for f in run.figures if f.goal is not None]
    missed = {said: verdicts.count(said) for said in ("OVER", "UNDER", "no value") if said in verdicts}
    lines.append(
        f"goals: {verdicts.count('met')} of {len(verdicts)} met"
        + "".join(f", {n} {said}" for said, n in missed.items())
    )
    for size, benches in marked.items():
        lines.append(
            f"* measured at another size than the goal's, set for {size} ({', '.join(sorted(benches))})"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="the JSON lines the benches wrote")
    args = parser.parse_args(argv)
    runs, unreadable = read(args.file)
    print(f"\nbenchmark figures ({args.file}): ratio = measured / goal for <=, goal / measured for >=;")
    print("at 1.00 or below the goal is met. Goals are set for an idle machine: mind the load average.\n")
    if not runs:
        print("no figures recorded")
    else:
        print("\n".join(table(runs)))
    if unreadable:
        print(f"({unreadable} unreadable line(s) skipped)", file=sys.stderr)


if __name__ == "__main__":
    main()
