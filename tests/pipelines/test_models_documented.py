"""Every column a model of `mailjet_models` returns is documented, in its SQL file's header and in
docs/models.md, and nothing else is: a column added, renamed or dropped without its documentation fails."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlglot import exp

from pipelines.models import statement
from pipelines.warehouse.publish import ANALYTICS_FOLDER, model_names

pytestmark = pytest.mark.unit

DOC = Path(__file__).resolve().parents[2] / "docs" / "models.md"


def returned(name: str) -> list[str]:
    """The columns of a model, read from its SQL: the house style ends each with `select * from final`."""
    text = (ANALYTICS_FOLDER / f"{name}.sql").read_text(encoding="utf-8")
    assert text.rstrip().endswith("\n\nselect * from final"), f"{name}: ends with `select * from final`"
    tree = statement(name, ANALYTICS_FOLDER)
    assert isinstance(tree, exp.Select)
    final = next(cte for cte in tree.ctes if cte.alias == "final")
    return list(final.this.named_selects)


def in_header(name: str) -> list[str]:
    """The columns a model's header documents: its lines `--   column   what it is`."""
    text = (ANALYTICS_FOLDER / f"{name}.sql").read_text(encoding="utf-8")
    return re.findall(r"^--   (\w+) ", text, flags=re.MULTILINE)


def in_doc(name: str) -> list[str]:
    """The columns docs/models.md documents in the table of the model's section."""
    sections = re.split(r"^## ", DOC.read_text(encoding="utf-8"), flags=re.MULTILINE)
    section = next((s for s in sections if s.startswith(f"`{name}`\n")), None)
    assert section is not None, f"docs/models.md has no section `## `{name}``"
    return re.findall(r"^\| `(\w+)` \|", section, flags=re.MULTILINE)


@pytest.mark.parametrize("name", model_names())
def test_every_column_of_a_model_is_documented_in_its_header_and_in_docs(name: str) -> None:
    columns = returned(name)
    assert columns, name
    assert in_header(name) == columns, f"{name}: the header documents other columns than the model returns"
    assert in_doc(name) == columns, f"{name}: docs/models.md documents other columns than the model returns"


def test_the_doc_documents_no_model_that_is_not_there() -> None:
    sections = re.findall(r"^## `(\w+)`$", DOC.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert sorted(sections) == sorted(model_names())
