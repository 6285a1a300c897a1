"""Ctrl-C and SIGTERM sent to a running extract or import: it stops with the signal's exit code, says to
rerun, and the rerun gives the database a clean run gives (see crash_world)."""

from __future__ import annotations

import signal
import time

import pytest

from tests.pipelines.crash_world import (
    World,
    assert_landed,
    assert_same,
    cli,
    copy_db,
    finish,
    import_args,
    package_pending,
    requests_made,
    spawn,
    wait_until,
)

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("signals", "code", "fraction"),
    [
        pytest.param([signal.SIGINT], 130, 0.5, id="ctrl-c-fetching"),
        pytest.param([signal.SIGINT, signal.SIGINT], 130, 0.5, id="ctrl-c-twice-fetching"),
        pytest.param([signal.SIGTERM], 143, 0.5, id="sigterm-fetching"),
        pytest.param([signal.SIGINT], 130, 0.95, id="ctrl-c-late"),
        pytest.param([signal.SIGTERM, signal.SIGTERM], 143, 0.95, id="sigterm-twice-late"),
    ],
)
def test_interrupted_extract_exits_cleanly_and_resumes(
    world: World, signals: list[int], code: int, fraction: float
) -> None:
    """The signals are sent once the extract has made `fraction` of a clean extract's requests: it is
    still reading, so they land in a running command, every time."""
    name = f"signal-{'-'.join(str(int(s)) for s in signals)}-{fraction}"
    db = copy_db(world.baseline, world.root / name)
    before = requests_made(world)
    process = spawn(db, "extract", env=world.env)
    wait_until(
        lambda: (
            requests_made(world) - before >= fraction * world.extract_requests or process.poll() is not None
        ),
        f"the extract has made {fraction:.0%} of its requests",
    )
    assert process.poll() is None, "the extract ended before the signal: nothing was interrupted"
    for sig in signals:
        process.send_signal(sig)
        time.sleep(0.05)
    returncode, _, err = finish(process)
    assert_landed(returncode, err, code, "extract")
    result = cli(db, "extract", env=world.env)
    assert result.returncode == 0, result.stderr
    assert_same(db, world.extracted)


@pytest.mark.parametrize("moment", ["staging", "loading"])
def test_interrupted_import_exits_cleanly_and_resumes(world: World, moment: str) -> None:
    """Ctrl-C once the import is staging the file (its staging folder exists), or once its rows wait in a
    load package: a running command gets it, every time."""
    db = copy_db(world.baseline, world.root / f"import-signal-{moment}")
    process = spawn(db, *import_args(world), env=world.env)
    staging = db.parent / f".{db.name}.dlt" / "mailjet_csv" / "csv-staging"

    def reached() -> bool:
        return staging.is_dir() if moment == "staging" else package_pending(db, "mailjet_csv")

    wait_until(lambda: reached() or process.poll() is not None, f"the import is {moment}")
    assert process.poll() is None, f"the import ended before it was seen {moment}: nothing was interrupted"
    process.send_signal(signal.SIGINT)
    returncode, _, err = finish(process)
    assert_landed(returncode, err, 130, "import-csv")
    result = cli(db, *import_args(world), env=world.env)
    assert result.returncode == 0, result.stderr
    assert_same(db, world.imported)
