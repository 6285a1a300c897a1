"""The code's shape: every package where design §2 puts it, modules and functions a reader can hold in
their head, and the sync's engine free of HTTP. The lists of exceptions only shrink: an entry that no
longer needs to be there fails the test until it is removed."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pipelines", "sources", "destinations")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
# Declarations: the tables Mailjet's resources land in, one entry per column.
LONG_MODULES = {"sources/mailjet/schema.py"}
LONG_FUNCTIONS: set[str] = set()
LAYOUT = (
    "audiences.sql",
    "pipelines/cli/__init__.py",
    "pipelines/sync/audiences.py",
    "pipelines/models/views",
    "pipelines/models/matched",
    "pipelines/warehouse/__init__.py",
    "sources/mailjet/__init__.py",
    "sources/mailjet/client.py",
    "sources/mailjet/settings.py",
    "sources/mailjet/exceptions.py",
    "sources/mailjet_csv/__init__.py",
    "sources/mailjet_webhooks/__init__.py",
    "destinations/mailjet_lists/__init__.py",
    "sandbox/__init__.py",
    "bench",
    "examples",
)


def modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_each_package_is_where_the_design_puts_it() -> None:
    missing = [path for path in LAYOUT if not (ROOT / path).exists()]
    assert not missing, f"missing from the layout of design §2: {missing}"


def test_modules_stay_short() -> None:
    sizes = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines()) for p in modules()}
    long = {name for name, lines in sizes.items() if lines > MAX_MODULE_LINES}
    assert long <= LONG_MODULES, f"over {MAX_MODULE_LINES} lines: {sorted(long - LONG_MODULES)}"
    assert long >= LONG_MODULES, f"short now, take them off LONG_MODULES: {sorted(LONG_MODULES - long)}"


def test_the_sync_engine_speaks_sql_not_http() -> None:
    """`pipelines/sync` takes a SQL client and plain data; Mailjet is called by the flows and the
    destination."""
    for path in sorted((ROOT / "pipelines" / "sync").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {
            alias.name if isinstance(node, ast.Import) else f"{node.module}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        http = {m for m in imported if m.split(".")[0] in ("requests", "urllib3", "http")}
        http |= {
            m
            for m in imported
            if m.startswith(("sources.mailjet.client", "destinations.mailjet_lists.mailjet"))
        }
        assert not http, f"{path.relative_to(ROOT)} imports {sorted(http)}"


def test_functions_stay_short() -> None:
    long = set()
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.add(f"{path.relative_to(ROOT)}:{node.name}")
    assert long <= LONG_FUNCTIONS, f"over {MAX_FUNCTION_LINES} lines: {sorted(long - LONG_FUNCTIONS)}"
    assert long >= LONG_FUNCTIONS, f"short now, take them off LONG_FUNCTIONS: {sorted(LONG_FUNCTIONS - long)}"
