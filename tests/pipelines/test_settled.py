"""Which layers a command opens: its own, and each other one whose working folder shows anything to finish
(a journal, an import's staging, a package not loaded, an extract's leftover) or no local schema to take
its state from. A settled layer is left unopened; anything else is opened, resumed and restored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pipelines.load import load
from pipelines.settings import CSV_STAGING_FOLDER
from pipelines.warehouse.database import NOTHING_TO_RESTORE
from pipelines.warehouse.paths import pipelines_dir
from pipelines.warehouse.resume import JOURNAL, settled


def layer(tmp_path: Path) -> Path:
    """A working folder as dlt leaves it after a load: a schema, empty package folders."""
    working = tmp_path / "mailjet_csv"
    (working / "schemas").mkdir(parents=True)
    (working / "schemas" / "mailjet_csv.schema.json").write_text("{}")
    for folder in ("normalize/extracted", "load/new", "load/normalized", "load/loaded/1700000000.1"):
        (working / folder).mkdir(parents=True)
    (working / "normalize" / ".version").write_text("1.0.0")
    (working / "state.json").write_text("{}")
    return working


def put(relative: str, directory: bool = False) -> Callable[[Path], None]:
    def make(working: Path) -> None:
        path = working / relative
        if directory:
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("x")

    return make


@pytest.mark.unit
def test_a_layer_as_a_load_leaves_it_is_settled(tmp_path: Path) -> None:
    assert settled(layer(tmp_path))


@pytest.mark.unit
@pytest.mark.parametrize(
    "change",
    [
        pytest.param(put(JOURNAL), id="journal"),
        pytest.param(put(CSV_STAGING_FOLDER, directory=True), id="import-staging"),
        pytest.param(put("normalize/extracted/1700000001.2/schema.json"), id="extracted-package"),
        pytest.param(put("load/normalized/1700000001.2/package_state.json"), id="normalized-package"),
        pytest.param(put("load/new/1700000001.2", directory=True), id="package-being-normalized"),
        pytest.param(put("normalize/1700000001.2", directory=True), id="extract-leftover"),
        pytest.param(
            lambda working: (working / "schemas" / "mailjet_csv.schema.json").unlink(), id="no-schema"
        ),
        pytest.param(
            lambda w: (w / "schemas" / "mailjet_csv.schema.json").rename(w / "schemas" / "a1b2c3d4"),
            id="only-a-temporary-file-of-a-schema-being-written",
        ),
    ],
)
def test_anything_to_finish_or_restore_opens_the_layer(
    tmp_path: Path, change: Callable[[Path], None]
) -> None:
    working = layer(tmp_path)
    change(working)
    assert not settled(working)


@pytest.mark.unit
def test_a_layer_never_written_here_is_opened(tmp_path: Path) -> None:
    assert not settled(tmp_path / "crm")


def test_a_layer_after_a_real_load_is_settled_and_a_kept_package_is_not(tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text("email\na@example.com\n")
    db = tmp_path / "w.duckdb"
    load(db=str(db), file=str(people), table="people")
    folder = pipelines_dir(str(db), None)
    assert settled(folder / "crm")
    # The layers `load` does not write: looked up in the DuckDB file once, found empty, noted as such.
    assert settled(folder / "mailjet_api") and settled(folder / "mailjet_csv")
    (folder / "crm" / "normalize" / "extracted" / "1700000001.2").mkdir()  # a package an extract left
    assert not settled(folder / "crm")


@pytest.mark.unit
def test_a_duckdb_layer_the_warehouse_held_nothing_for_is_settled_without_a_schema(tmp_path: Path) -> None:
    working = layer(tmp_path)
    (working / "schemas" / "mailjet_csv.schema.json").unlink()
    (working / NOTHING_TO_RESTORE).write_text("x")
    assert settled(working)
