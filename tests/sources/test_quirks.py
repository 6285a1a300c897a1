"""The extract under other readings of Mailjet's API (sandbox quirks, sandbox/quirks.py): whichever
reading holds, every table comes out complete and exact, without the extract being told which."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipelines.extract import extract
from sandbox.quirks import KNOWN
from tests.conftest import Api, start
from tests.sources.conftest import campaign_stats, every_row, point_at, query

# Each quirk alone, and all at once.
READINGS = [*KNOWN, "all"]
Truth = dict[str, set[tuple[Any, ...]]]


@pytest.fixture(scope="module")
def truth() -> Iterator[tuple[Api, Truth]]:
    """One sandbox and its ground truth, read with no quirk on."""
    app = start(contacts=1500)
    api = Api(app)
    history = {"FromTS": 1}
    expected = {
        "messages": {(m["ID"], m["ContactID"], m["Status"]) for m in every_row(api, "message", **history)},
        "campaigns": {(c["ID"], c["Subject"], c["Status"]) for c in every_row(api, "campaign", **history)},
        "clicks": {(c["ID"], c["MessageID"], c["Url"]) for c in every_row(api, "clickstatistics", **history)},
        "bounces": {(b["ID"], b["IsStatePermanent"]) for b in every_row(api, "bouncestatistics", **history)},
        "opens": {
            (o["MessageID"], o["OpenedAt"].replace("Z", ""))
            for o in every_row(api, "openinformation", sort="OpenedAt", **history)
        },
        "contacts": {(c["ID"], c["Email"]) for c in every_row(api, "contact")},
        "campaign_stats": campaign_stats(api),
    }
    yield api, expected
    app.stop()


@pytest.mark.parametrize("reading", READINGS)
def test_every_table_is_exact_whichever_reading_holds(
    reading: str, truth: tuple[Api, Truth], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api, expected = truth
    assert api.admin("PUT", "quirks", {"spec": reading}).status_code == 200
    try:
        # Many windows (many edges) and many pages (a count taken for a page shows).
        point_at(api, monkeypatch, window_rows="150", page_size="50")
        db = tmp_path / "mj.duckdb"
        extract(db=str(db))
    finally:
        api.admin("PUT", "quirks", {"spec": ""})
    found = {
        "messages": set(query(db, "select id, contact_id, status from mailjet.messages")),
        "campaigns": set(query(db, "select id, subject, status from mailjet.campaigns")),
        "clicks": set(query(db, "select id, message_id, url from mailjet.clicks")),
        "bounces": set(query(db, "select id, is_state_permanent from mailjet.bounces")),
        "opens": {
            (m, at.strftime("%Y-%m-%dT%H:%M:%S"))
            for m, at in query(db, "select message_id, opened_at at time zone 'UTC' from mailjet.opens")
        },
        "contacts": set(query(db, "select id, email from mailjet.contacts")),
        "campaign_stats": set(
            query(db, "select campaign_id, total_count, message_opened_count from mailjet.campaign_stats")
        ),
    }
    for name, rows in expected.items():
        assert rows, f"the sandbox has no {name}: the comparison would prove nothing"
        missing, extra = rows - found[name], found[name] - rows
        assert not missing and not extra, (
            f"{name} under {reading}: {len(missing)} missing, {len(extra)} extra"
        )


def test_unknown_quirks_are_refused_by_name() -> None:
    from sandbox.exceptions import SandboxConfigError
    from sandbox.quirks import parse_quirks

    with pytest.raises(SandboxConfigError, match="nope: no such quirk"):
        parse_quirks("fromts-exclusive,nope")
    assert parse_quirks("all") == frozenset(KNOWN) - {"sort-unknown-ignored"}
    assert parse_quirks("") == frozenset()


def test_quirks_that_exclude_each_other() -> None:
    from sandbox.exceptions import SandboxConfigError
    from sandbox.quirks import parse_quirks

    with pytest.raises(SandboxConfigError, match="exclude each other"):
        parse_quirks("sort-unknown-400,sort-unknown-ignored")
    chosen = parse_quirks("all")
    assert "sort-unknown-400" in chosen and "sort-unknown-ignored" not in chosen  # the harsher
