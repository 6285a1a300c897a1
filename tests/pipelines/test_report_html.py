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
    # Every figure without rows says so (and what to run) instead of drawing an empty chart.
    assert html.count("Nothing to show yet") == len(FIGURES) - 2
    assert "No campaign has a spam report." in html


@pytest.mark.unit
def test_json_and_scripts_cannot_close_their_element() -> None:
    assert "<" not in json_text({"a": "</script>"}) and "&" not in json_text("&amp;")
    with pytest.raises(ValueError, match="</script"):
        script_text("var a = '</SCRIPT>';")
    with pytest.raises(ValueError, match="<!--"):
        script_text("var a = '<!--';")


@pytest.mark.unit
def test_the_chart_plots_each_row_sums_only_the_sync_and_scales_rates() -> None:
    [growth] = [f for f in FIGURES if f.name == "list_growth"]
    week = date(2026, 3, 2)
    data = chart_data(growth, [{"week": week, "subscribes": 3, "unsubscribes": 1}])
    assert data["labels"] == ["2026-03-02"]
    assert [s["data"] for s in data["series"]] == [[3.0], [-1.0]]  # unsubscribes below the axis
    # The sync's chart sums a day's audiences.
    [sync] = [f for f in FIGURES if f.name == "sync"]
    day = {"planned_on": week, "subscribed": 2, "unsubscribed": 1, "removed": 0, "updated": None}
    summed = chart_data(sync, [{**day, "audience": "a"}, {**day, "audience": "b"}])
    assert summed["labels"] == ["2026-03-02"] and summed["series"][0]["data"] == [4.0]
    assert summed["series"][3]["data"] == [0.0]
    # Two lists of one name are two bars; a rate with nothing to divide is a gap, not a 0.
    [lists] = [f for f in FIGURES if f.name == "lists"]
    same = {"list_name": "L" * 50, "subscribes": 1, "unsubscribes": 0}
    assert chart_data(lists, [{**same, "list_id": 1}, {**same, "list_id": 2}])["series"][0]["data"] == [
        1.0,
        1.0,
    ]
    [campaigns] = [f for f in FIGURES if f.name == "campaigns"]
    gap = chart_data(campaigns, [{"campaign_id": 1, "open_rate": None, "click_rate": 0.5}])
    assert [s["data"] for s in gap["series"]] == [[None], [50.0]]
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
    """Each refusal says why; nothing is written, and no file but an earlier report is ever replaced."""
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


@pytest.fixture
def extracted(tmp_path: Path) -> Path:
    """A database with the models published: a CSV import of two contacts (no API, no sandbox)."""
    from pipelines.import_csv import import_csv

    export = tmp_path / "export.csv"
    export.write_text("email,name\na@example.com,A\nb@example.com,B\n", encoding="utf-8")
    db = tmp_path / "w.duckdb"
    import_csv(files=[str(export)], db=str(db), progress=False)
    return db


def test_the_report_never_replaces_the_database_or_another_file(extracted: Path, tmp_path: Path) -> None:
    before = extracted.read_bytes()
    for out in (extracted, tmp_path / "." / "w.duckdb", tmp_path / "w.duckdb.wal"):
        with pytest.raises(CommandError, match="is the database itself") as refused:
            write_report(db=str(extracted), out=str(out))
        assert refused.value.exit_code == 2
    link = tmp_path / "link.duckdb"
    link.symlink_to(extracted)
    with pytest.raises(CommandError, match="is the database itself"):
        write_report(db=str(extracted), out=str(link))
    notes = tmp_path / "notes.txt"
    notes.write_text("mine", encoding="utf-8")
    with pytest.raises(CommandError, match="not an HTML page"):
        write_report(db=str(extracted), out=str(notes))
    assert extracted.read_bytes() == before and notes.read_text(encoding="utf-8") == "mine"


def test_an_earlier_report_is_replaced_through_its_link_with_its_mode(
    extracted: Path, tmp_path: Path
) -> None:
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "r.html"
    real.write_text("<!doctype html><p>old</p>", encoding="utf-8")
    real.chmod(0o640)
    link = tmp_path / "r.html"
    link.symlink_to(real)
    report = write_report(db=str(extracted), out=str(link))
    assert link.is_symlink() and "Mailjet report" in real.read_text(encoding="utf-8")
    assert real.stat().st_mode & 0o777 == 0o640 and report.path == str(link)
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["r.html"]  # no partial file left


def test_an_interrupted_write_leaves_the_old_report_and_no_partial_file(
    extracted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines.interrupts import Interrupted

    out = tmp_path / "r.html"
    out.write_text("<!doctype html><p>old</p>", encoding="utf-8")

    def interrupted(fd: int) -> None:
        raise Interrupted(15)

    monkeypatch.setattr("pipelines.report_html.os.fsync", interrupted)
    with pytest.raises(Interrupted):
        write_report(db=str(extracted), out=str(out))
    assert out.read_text(encoding="utf-8") == "<!doctype html><p>old</p>"
    assert sorted(p.name for p in tmp_path.iterdir() if "html" in p.name) == ["r.html"]


def test_the_report_can_go_to_stdout(extracted: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pipelines.cli import run_command

    assert run_command(["--db", str(extracted), "report", "--out", "-"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("<!doctype html>") and captured.out.rstrip().endswith("</html>")
    assert "report: wrote -" in captured.err
