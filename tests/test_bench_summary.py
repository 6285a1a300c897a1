"""`bench/summary.py`: the table `make bench` prints last, fed a small JSON-lines file as the benches write
it; its ratios (measured / goal for an at-most goal, goal / measured for an at-least one), its verdicts
and its layout. No benchmark runs."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytestmark = pytest.mark.unit

BENCH = Path(__file__).resolve().parents[1] / "bench"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


summary = load("summary")


def start(run: str, bench: str, args: str, load: float) -> dict[str, Any]:
    return {"bench": bench, "run": run, "event": "start", "args": args, "load": [load, 0.4, 0.3], "cores": 2}


def figure(
    run: str, bench: str, name: str, value: float, unit: str, goal: float | None, **kw: Any
) -> dict[str, Any]:
    return {
        "bench": bench,
        "run": run,
        "event": "figure",
        "figure": name,
        "value": value,
        "unit": unit,
        "goal": goal,
        "direction": kw.get("direction", "<="),
        "goal_for": kw.get("goal_for"),
    }


LINES = [
    start("1", "plan.py", "--people 20000", 0.25),
    figure("1", "plan.py", "plan: median", 12.0, "s", 10.0),  # over: 1.20
    figure("1", "plan.py", "plan: peak RSS", 450.0, "MiB", 600.0, goal_for="1,000,000 people"),  # met: 0.75
    start("2", "webhooks.py", "", 1.5),
    figure("2", "webhooks.py", "webhooks v1: events/s", 2500.0, "events/s", 2000.0, direction=">="),  # 0.80
    figure("2", "webhooks.py", "webhooks v2: events/s", 1600.0, "events/s", 2000.0, direction=">="),  # 1.25
    figure("2", "webhooks.py", "webhooks: p99", 5.5, "ms", None),
    start("3", "views.py", "", 0.1),
]


def write(tmp_path: Path, lines: list[dict[str, Any]], extra: str = "") -> Path:
    path = tmp_path / "figures.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines) + extra, encoding="utf-8")
    return path


def row(lines: list[str], name: str) -> list[str]:
    """The cells of a figure's row, split on runs of two spaces or more (the columns' gaps)."""
    [found] = [line for line in lines if line.strip().startswith(name)]
    return [cell.strip() for cell in found.split("  ") if cell.strip()]


def test_ratio_and_verdict_of_an_at_most_goal() -> None:
    over = summary.Figure("t", 12.0, "s", 10.0, "<=")
    assert summary.ratio(over) == pytest.approx(1.2)
    assert summary.verdict(over) == "OVER"
    under = summary.Figure("t", 7.5, "s", 10.0, "<=")
    assert summary.ratio(under) == pytest.approx(0.75)
    assert summary.verdict(under) == "met"
    on_it = summary.Figure("t", 10.0, "s", 10.0, "<=")
    assert summary.ratio(on_it) == pytest.approx(1.0)
    assert summary.verdict(on_it) == "met"


def test_ratio_and_verdict_of_an_at_least_goal() -> None:
    fast = summary.Figure("t", 2500.0, "events/s", 2000.0, ">=")
    assert summary.ratio(fast) == pytest.approx(0.8)  # goal / measured: below 1 is met
    assert summary.verdict(fast) == "met"
    slow = summary.Figure("t", 1600.0, "events/s", 2000.0, ">=")
    assert summary.ratio(slow) == pytest.approx(1.25)
    assert summary.verdict(slow) == "UNDER"
    assert summary.ratio(summary.Figure("t", 0.0, "events/s", 2000.0, ">=")) == math.inf


def test_no_goal_no_ratio_no_verdict() -> None:
    free = summary.Figure("t", 5.5, "ms")
    assert summary.ratio(free) is None
    assert summary.verdict(free) == ""
    zero = summary.Figure("t", 1.0, "", 0.0, "<=")  # at most nothing: no ratio, still a verdict
    assert summary.ratio(zero) is None
    assert summary.verdict(zero) == "OVER"


def test_the_file_read_back_by_run_with_its_load(tmp_path: Path) -> None:
    runs, unreadable = summary.read(write(tmp_path, LINES, extra='{"bench": "cut sho\n'))
    assert unreadable == 1
    assert [(r.bench, r.args, r.load, r.cores, len(r.figures)) for r in runs] == [
        ("plan.py", "--people 20000", 0.25, 2, 2),
        ("webhooks.py", "", 1.5, 2, 3),
        ("views.py", "", 0.1, 2, 0),
    ]
    assert runs[0].figures[1] == summary.Figure(
        "plan: peak RSS", 450.0, "MiB", 600.0, "<=", "1,000,000 people"
    )


def test_the_table(tmp_path: Path) -> None:
    runs, _ = summary.read(write(tmp_path, LINES))
    lines = summary.table(runs)
    assert lines[0].split() == ["figure", "measured", "goal", "ratio", "verdict"]
    assert row(lines, "plan: median") == ["plan: median", "12.0 s", "<= 10.0 s", "1.20", "OVER"]
    assert row(lines, "plan: peak RSS") == ["plan: peak RSS", "450 MiB", "<= 600 MiB", "0.75", "met *"]
    assert row(lines, "webhooks v1") == [
        "webhooks v1: events/s",
        "2,500 events/s",
        ">= 2,000 events/s",
        "0.80",
        "met",
    ]
    assert row(lines, "webhooks v2") == [
        "webhooks v2: events/s",
        "1,600 events/s",
        ">= 2,000 events/s",
        "1.25",
        "UNDER",
    ]
    assert row(lines, "webhooks: p99") == ["webhooks: p99", "5.50 ms", "—", "—"]
    # each bench under a heading with its arguments and the load average at its start
    assert "plan.py --people 20000  (load average 0.25 at its start, 2 cores)" in lines
    assert "webhooks.py  (load average 1.50 at its start, 2 cores)" in lines
    assert "  no figures recorded (did views.py fail?)" in lines
    assert lines.index("webhooks.py  (load average 1.50 at its start, 2 cores)") > lines.index(
        row_line(lines, "plan: peak RSS")
    )
    assert lines[-2] == "goals: 2 of 4 met, 1 OVER, 1 UNDER"
    assert "* measured at another size than the goal's, set for 1,000,000 people (plan.py)" in lines
    # the columns line up
    starts = {line.index("met") for line in lines if line.endswith(("met", "met *"))}
    assert len(starts) == 1


def row_line(lines: list[str], name: str) -> str:
    [found] = [line for line in lines if line.strip().startswith(name)]
    return found


def test_main_prints_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary.main([str(write(tmp_path, LINES))])
    out = capsys.readouterr().out
    assert "ratio = measured / goal for <=, goal / measured for >=" in out
    assert "goals: 2 of 4 met, 1 OVER, 1 UNDER" in out


def test_an_empty_file_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary.main([str(write(tmp_path, []))])
    assert "no figures recorded" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0.123, "0.12"), (9.876, "9.88"), (12.34, "12.3"), (345.6, "346"), (2500.0, "2,500"), (0.004, "0.004")],
)
def test_numbers(value: float, shown: str) -> None:
    assert summary.number(value) == shown


def test_the_benches_write_what_the_summary_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    common = load("common")
    monkeypatch.delenv(common.FIGURES_ENV, raising=False)
    common.Figures("quiet.py").record("x", 1.0, "s", 2.0)  # unset: nothing written anywhere
    path = tmp_path / "figures.jsonl"
    monkeypatch.setenv(common.FIGURES_ENV, str(path))
    monkeypatch.setattr(sys, "argv", ["bench/extract.py", "--sizes", "5,100000"])
    figures = common.Figures()
    figures.record("extract 5 contacts (the floor): peak RSS", 160.0, "MiB", 150.0)
    figures.record("extract peak RSS 100,000 / 5", 1.1, "x", 1.15, goal_for="a base of 100,000 contacts")
    with pytest.raises(ValueError, match="direction"):
        figures.record("x", 1.0, "s", 2.0, "<")
    [run], unreadable = summary.read(path)
    assert (run.bench, run.args, run.cores, unreadable) == (
        "extract.py",
        "--sizes 5,100000",
        os.cpu_count(),
        0,
    )
    assert run.load is not None
    assert [(f.figure, summary.verdict(f)) for f in run.figures] == [
        ("extract 5 contacts (the floor): peak RSS", "OVER"),
        ("extract peak RSS 100,000 / 5", "met"),
    ]
    assert round(summary.ratio(run.figures[0]), 3) == 1.067
