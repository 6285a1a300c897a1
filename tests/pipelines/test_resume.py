"""What a rerun finishes for a run that stopped at an awkward moment, set up exactly rather than by timing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import pipelines.import_csv
from pipelines.import_csv import import_csv
from pipelines.warehouse import open_pipeline
from tests.conftest import Api, creds, run_cli
from tests.csv_import.conftest import rejections, rows


class Killed(BaseException):
    """Stands for the process dying at that point."""


def test_an_import_stopped_after_its_load_is_finished_by_the_next_command(
    shared: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "mj.duckdb"
    export = tmp_path / "people.csv"
    export.write_text("email,name\nbad,x\nann@example.com,Ann\n", encoding="utf-8")
    import_csv(db=str(db), files=[str(export)], progress=False)
    export.write_text("email,name\nann@example.com,Ann\nbob@example.com,Bob\nworse,y\n", encoding="utf-8")

    def die(*args: object) -> None:
        raise Killed

    monkeypatch.setattr(pipelines.import_csv, "remove_superseded", die)
    with pytest.raises(Killed):
        import_csv(db=str(db), files=[str(export)], progress=False)
    # Both imports' rejections are in the raw layer for now; the view shows the latest import's.
    assert rows(db, "select line from mailjet_csv.csv_rejections order by line") == [(2,), (4,)]
    assert [line for line, _, _ in rejections(db)] == [4]
    assert rows(db, "select count(*) from mailjet_csv.contacts") == [(3,)]  # and both imports' rows
    monkeypatch.undo()

    # Any loading command finishes it, an extract too.
    result = run_cli(["--db", str(db), "extract", "--resources", "contact_lists"], creds(shared), tmp_path)
    assert result.returncode == 0, result.stderr
    assert "resumed: `import-csv` was interrupted after its load; finished its last steps" in result.stdout
    assert [(line, reason) for line, _, reason in rejections(db)] == [(4, 'invalid email "worse"')]
    assert rows(db, "select count(*) from mailjet.contacts") == [(2,)]
    assert rows(db, "select count(*) from mailjet_csv.contacts") == [(2,)]


def test_a_package_left_both_extracted_and_normalized_is_loaded_once(tmp_path: Path) -> None:
    """dlt moves a package from `extracted` to `normalized` and then deletes the first copy: a kill
    between the two leaves it twice, which must not stop every later run."""
    db = tmp_path / "mj.duckdb"
    pipeline = open_pipeline(str(db))
    load_id = pipeline.extract([{"id": 1, "note": "kept"}], table_name="scratch").loads_ids[-1]
    extracted = Path(pipeline.working_dir) / "normalize" / "extracted" / load_id
    saved = tmp_path / "saved-package"
    shutil.copytree(extracted, saved)
    pipeline.normalize()
    shutil.copytree(saved, extracted)  # the copy a kill would have left
    assert load_id in pipeline.list_extracted_load_packages()
    assert load_id in pipeline.list_normalized_load_packages()

    export = tmp_path / "people.csv"
    export.write_text("email\nann@example.com\n", encoding="utf-8")
    result = run_cli(["--db", str(db), "import-csv", str(export)], {}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "resumed: an earlier run was interrupted; completed its load (1 package)" in result.stdout
    assert rows(db, "select id, note from mailjet_api.scratch") == [(1, "kept")]
    assert rows(db, "select email from mailjet.contacts") == [("ann@example.com",)]
