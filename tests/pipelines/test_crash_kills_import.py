"""Imports killed at three moments of their work and once in their load, each resumed by a plain rerun
to the database a clean import gives; an extract after a killed import loads both (see crash_world)."""

from __future__ import annotations

import pytest

from tests.pipelines.crash_world import (
    World,
    assert_same,
    cli,
    import_args,
    kill_in_load,
    killed_and_resumed,
)

pytestmark = pytest.mark.e2e


def test_killed_imports_are_resumed_by_a_plain_rerun(world: World) -> None:
    killed_and_resumed(world, "import", import_args(world), world.import_seconds, world.imported)


def test_an_extract_after_a_killed_import_loads_both(world: World) -> None:
    """The import killed while its load is pending is completed first; the extract then does its own
    work."""
    db, stopped_late = kill_in_load(world, "import-then-extract", *import_args(world))
    assert stopped_late, "the import could not be killed while its load was pending"
    result = cli(db, "extract", env=world.env)
    assert result.returncode == 0, result.stderr
    assert "resumed: `import-csv` was interrupted" in result.stdout, result.stdout
    assert cli(db, "import-csv", str(world.export), "--list", "Events", env=world.env).returncode == 0
    assert_same(db, world.extracted_and_imported())
