"""Imports killed at a dozen moments, each resumed by a plain rerun to the database a clean import gives;
an extract after a killed import loads both (see crash_world). A module of its own, so that it runs beside
the other crash-safety tests."""

from __future__ import annotations

from tests.pipelines.crash_world import (
    LATE,
    World,
    assert_same,
    cli,
    copy_db,
    kill_at,
)


def test_killed_imports_are_resumed_by_a_plain_rerun(world: World) -> None:
    moments = [world.import_seconds * k / 10 for k in range(1, 10)]
    moments.append(world.import_seconds * 0.97)
    pending = 0
    late = [world.import_seconds * f for f in LATE]
    for i, moment in enumerate(moments + late):
        if i >= len(moments) and pending:
            break
        db, stopped_late = kill_at(
            world, f"kill-import-{i}", moment, "import-csv", str(world.export), "--list", "Events"
        )
        pending += stopped_late
        result = cli(db, "import-csv", str(world.export), "--list", "Events", env=world.env)
        assert result.returncode == 0, (moment, result.stderr)
        assert_same(db, world.imported)
        assert not list((db.parent / f".{db.name}.dlt").rglob("csv-staging")), "staging left behind"
    assert pending >= 1, f"no kill landed in the load; moments {moments + late}"


def test_an_extract_after_a_killed_import_loads_both(world: World) -> None:
    """The interrupted import is completed first; the extract then does its own work."""
    db, stopped_late = kill_at(
        world,
        "import-then-extract",
        world.import_seconds * 0.9,
        "import-csv",
        str(world.export),
        "--list",
        "Events",
    )
    result = cli(db, "extract", env=world.env)
    assert result.returncode == 0, result.stderr
    if stopped_late:
        assert "resumed: `import-csv` was interrupted" in result.stdout, result.stdout
    assert cli(db, "import-csv", str(world.export), "--list", "Events", env=world.env).returncode == 0
    reference = copy_db(world.extracted, world.root / "import-then-extract-ref")
    assert cli(reference, "import-csv", str(world.export), "--list", "Events", env=world.env).returncode == 0
    assert_same(db, reference)
