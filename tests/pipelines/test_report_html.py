"""The HTML report's parts that need no warehouse: text from the warehouse cannot break out of its place,
the chart data sums and scales as the tables print, the chart library is refused unless it is the pinned
one; and its errors name the fix. (The report itself, in Chromium: tests/pipelines/test_demo.py; on a
database no plan has run on: tests/pipelines/test_models.py; on Postgres: tests/postgres/test_demo.py.)"""

from __future__ import annotations

import io
import tarfile
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from pipelines.errors import CommandError
from pipelines.report_html import library, write_report
from pipelines.report_html.figures import FIGURES, chart_data, shown
from pipelines.report_html.page import json_text, page, script_text

HOSTILE = "</script><script>alert(1)</script><b>&amp; \"quoted\" 'x' <!--"


class Elements(HTMLParser):
    """Every start tag, and the text of each table cell and of the JSON data."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.cells: list[str] = []
        self.data = ""
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "td":
            self._in = "td"
            self.cells.append("")
        elif tag == "script" and ("id", "report-data") in attrs:
            self._in = "data"

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "td":
            self.cells[-1] += data
        elif self._in == "data":
            self.data += data


def _rows(subject: str) -> dict[str, list[dict[str, object]]]:
    rows: dict[str, list[dict[str, object]]] = {f.name: [] for f in FIGURES}
    rows["campaigns"] = [
        {
            "campaign_id": 7,
            "subject": subject,
            "first_sent_on": date(2026, 1, 2),
            "sent": 1000,
            "delivered": 990,
            "unique_opens": 333,
            "unique_clicks": 0,
            "bounces": 10,
            "unsubscribes": 1,
            "open_rate": 333 / 990,
            "click_rate": 0.0,
            "bounce_rate": 0.01,
        }
    ]
    return rows


@pytest.mark.unit
def test_text_from_the_warehouse_stays_text() -> None:
    html = page(
        _rows(HOSTILE), "/* the library */", f"/tmp/{HOSTILE}.duckdb", datetime(2026, 1, 3, tzinfo=UTC)
    )
    parsed = Elements()
    parsed.feed(html)
    assert parsed.tags.count("script") == 3  # the data, the library, the page's own: nothing injected
    assert "b" not in parsed.tags
    assert HOSTILE in parsed.cells  # printed as it is, as text
    import json

    [chart] = json.loads(parsed.data)
    assert chart["labels"] == [f"7 {HOSTILE}"[:48]]
    assert chart["series"][0]["data"] == [round(333 / 990 * 100, 4)]
    # Every figure without rows says what to run instead of drawing an empty chart.
    assert html.count("Nothing to show yet") == len(FIGURES) - 1


@pytest.mark.unit
def test_json_and_scripts_cannot_close_their_element() -> None:
    assert "<" not in json_text({"a": "</script>"}) and "&" not in json_text("&amp;")
    with pytest.raises(ValueError, match="</script"):
        script_text("var a = '</SCRIPT>';")
    with pytest.raises(ValueError, match="<!--"):
        script_text("var a = '<!--';")


@pytest.mark.unit
def test_the_chart_sums_rows_with_one_label_and_scales_rates() -> None:
    [growth] = [f for f in FIGURES if f.name == "list_growth"]
    week = date(2026, 3, 2)
    data = chart_data(growth, [{"week": week, "subscribes": 3, "unsubscribes": 1}] * 2)
    assert data["labels"] == ["2026-03-02"]
    assert [s["data"] for s in data["series"]] == [[6.0], [-2.0]]  # unsubscribes below the axis
    assert (shown(None, "rate"), shown(0.12345, "rate"), shown(1234567, "int")) == (
        "\u2013",
        "12.3 %",
        "1,234,567",
    )
    assert (shown(None, "id"), shown(None, "text"), shown(week, "date")) == ("(none)", "", "2026-03-02")


def _tarball(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


@pytest.mark.unit
def test_only_the_pinned_chart_library_is_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    forged = _tarball({"package/dist/chart.umd.min.js": b"alert(1)", "package/LICENSE.md": b"MIT"})
    with pytest.raises(ValueError, match="integrity"):
        library.install(forged, tmp_path / "lib")
    assert not (tmp_path / "lib" / "chart.umd.min.js").exists()
    # One the pin describes is unpacked whole.
    monkeypatch.setattr(library, "INTEGRITY", "sha512-" + _digest(forged))
    library.install(forged, tmp_path / "lib")
    assert (tmp_path / "lib" / "chart.umd.min.js").read_bytes() == b"alert(1)"
    # A missing library is said, with the fix.
    monkeypatch.setenv("MAILJET_ELT_CHARTS_DIR", str(tmp_path / "none"))
    with pytest.raises(CommandError, match="make setup"):
        library.script()


def _digest(content: bytes) -> str:
    import base64
    import hashlib

    return base64.b64encode(hashlib.sha512(content).digest()).decode()


def test_report_errors_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no database at") as missing:
        write_report(db=str(tmp_path / "none.duckdb"), out=str(tmp_path / "r.html"))
    assert missing.value.exit_code == 2
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(CommandError, match="no `mailjet_models` models yet: run `mailjet-elt extract`"):
        write_report(db=str(empty), out=str(tmp_path / "r.html"))
    with pytest.raises(CommandError, match="is a folder"):
        write_report(db=str(empty), out=str(tmp_path))
    with pytest.raises(CommandError, match="no folder"):
        write_report(db=str(empty), out=str(tmp_path / "nowhere" / "r.html"))
    assert not list(tmp_path.glob("*.html")) and not list(tmp_path.glob(".*partial"))
