"""Results as data: `--format json` prints one JSON document on stdout carrying the figures the text shows."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from pipelines.extract import extract
from pipelines.import_csv import import_csv
from pipelines.report import as_json, text
from tests.conftest import Api, creds, run_cli
from tests.sources.conftest import point_at, query

EXPORT = "email;name;status\nann@example.com;Ann;subscribed\nnot-an-email;x;\nann@example.com;Dup;\n"


def test_extract_json_carries_the_figures_of_the_text(
    shared: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(shared, monkeypatch)
    result = extract(db=str(tmp_path / "mj.duckdb"), resources="contacts,contact_lists,campaigns")
    shown, document = text(result), json.loads(as_json(result))
    assert document["result"] == "extract"
    assert document["rows"] == sum(t["rows"] for t in document["tables"]) > 0
    assert f"Extracted {document['rows']:,} rows" in shown
    for table in document["tables"]:
        assert re.search(rf"^  {table['name']} +{table['rows']:,} rows$", shown, re.M), (table, shown)
    assert f"API requests: {document['requests']:,} (retries: none)" in shown


def test_import_json_carries_the_figures_of_the_text(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text(EXPORT, encoding="utf-8")
    result = import_csv(
        db=str(tmp_path / "mj.duckdb"), files=[str(export)], list_ref="Newsletter", progress=False
    )
    shown, document = text(result), json.loads(as_json(result))
    assert document["result"] == "import-csv" and document["rejected"] == 2
    (done,) = document["files"]
    assert (done["file"], done["contacts"], done["invalid"], done["duplicates"]) == ("export.csv", 1, 1, 1)
    assert f"{done['rows_read']:,} rows read" in shown
    assert f"contacts {done['contacts']:,} · property values {done['property_values']:,}" in shown
    assert f"rejected {done['rejected']:,}: 1 invalid, 1 duplicate email (first row kept)" in shown


def test_format_json_prints_one_document_on_stdout(shared: Api, tmp_path: Path) -> None:
    db = str(tmp_path / "mj.duckdb")
    extracted = run_cli(
        ["--db", db, "extract", "--resources", "contacts", "--format", "json"], creds(shared), tmp_path
    )
    assert extracted.returncode == 0, extracted.stderr
    document = json.loads(extracted.stdout)
    assert document["tables"] == [{"name": "contacts", "rows": 3000, "replaced": True, "previous": None}]
    assert query(Path(db), "select count(*) from mailjet.contacts") == [(3000,)]

    export = tmp_path / "export.csv"
    export.write_text(EXPORT, encoding="utf-8")
    imported = run_cli(["--db", db, "import-csv", str(export), "--format", "json"], {}, tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["files"][0]["contacts"] == 1

    checked = run_cli(["check", "--format", "json"], creds(shared), tmp_path)
    assert checked.returncode == 0, checked.stderr
    document = json.loads(checked.stdout)
    assert datetime.fromisoformat(document.pop("at")).tzinfo is not None
    assert document == {
        "result": "check",
        "exit_code": 0,
        "base_url": shared.base,
        "contacts": 3000,
        "lists": 5,
    }


@pytest.mark.unit
def test_every_result_class_has_its_rendering_by_name() -> None:
    """The renderers go by class name (so printing a result imports no flow): each name is a real class."""
    from pipelines.api import ApiResult, CheckResult
    from pipelines.apply import ApplyResult
    from pipelines.check_writes import WritesCheckResult
    from pipelines.extract import ExtractResult
    from pipelines.import_csv import ImportResult
    from pipelines.load import LoadResult
    from pipelines.plan import PlanResult
    from pipelines.report import KINDS, RENDERERS
    from pipelines.run import RunResult
    from pipelines.webhooks import RegisterResult

    classes = [ExtractResult, ImportResult, LoadResult, PlanResult, ApplyResult, RunResult]
    classes += [CheckResult, WritesCheckResult, RegisterResult]
    assert sorted(KINDS) == sorted(c.__name__ for c in classes)
    assert sorted(RENDERERS) == sorted(c.__name__ for c in [*classes, ApiResult])
