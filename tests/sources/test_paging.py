"""The page reader on its own: lanes, the rows Mailjet counted against the rows read."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pytest
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth, HttpBasicAuth

from sources.mailjet.client import HttpSettings, MailjetHttp
from sources.mailjet.paging import Listing, PageReader, ReadOutcome
from tests.conftest import Api
from tests.sources.conftest import send_sms


def reader(api: Api, page_size: int, concurrency: int) -> PageReader:
    auth = HttpBasicAuth(api.app.config.api_key, api.app.config.api_secret)
    return PageReader(
        MailjetHttp(api.base, auth, HttpSettings(concurrency=concurrency)), page_size, concurrency
    )


@pytest.mark.parametrize("concurrency", [1, 3, 8])
def test_lanes_read_every_row_once_in_ceil_pages(small: Api, concurrency: int) -> None:
    pages = reader(small, 100, concurrency)
    query = {"Sort": "ID"}
    total = pages.count("/v3/REST/contact", query)
    small.admin("DELETE", "requests")
    ids = [
        row["ID"] for page in pages.read([Listing("/v3/REST/contact", query, total)], list) for row in page
    ]
    calls = small.admin("GET", "requests").json()["by_endpoint"]
    assert calls == {"GET /v3/REST/contact": 12}  # ceil(1200 / 100) pages, whatever the lanes
    expected = [c["ID"] for o in (0, 1000) for c in small.data("contact", Limit=1000, Offset=o, Sort="ID")]
    assert sorted(ids) == expected


def test_fewer_rows_than_counted_is_reported(small: Api, caplog: pytest.LogCaptureFixture) -> None:
    pages = reader(small, 100, 2)
    query = {"Sort": "ID"}
    total = pages.count("/v3/REST/listrecipient", query)
    for member in small.data("listrecipient", Limit=150, Sort="ID DESC"):
        assert small.delete(f"listrecipient/{member['ID']}").status_code == 204
    with caplog.at_level(logging.WARNING):
        rows = sum(len(page) for page in pages.read([Listing("/v3/REST/listrecipient", query, total)], list))
    assert rows == total - 150
    assert f"read {total - 150} of the {total} rows Mailjet counted" in caplog.text


class NewSmsMidPage(PageReader):
    """A reader during whose first read of a page's rest a new SMS arrives (listed first: all shift)."""

    def __init__(self, api: Api, shift: bool) -> None:
        auth = BearerTokenAuth(api.app.config.sms_token)
        super().__init__(MailjetHttp(api.base, auth, HttpSettings(concurrency=1)), 50, 1)
        self.api, self.shift = api, shift

    def get(self, path: str, params: Mapping[str, Any]) -> Any:
        if self.shift and params.get("Offset"):
            self.shift = False
            assert self.api.admin("POST", "clock", {"advance": 10}).status_code == 200
            send_sms(self.api, "+33699999999")
        return super().get(path, params)


@pytest.mark.parametrize("shift", [False, True], ids=["still", "shifted-mid-page"])
def test_a_capped_page_is_read_in_parts_that_must_meet(api: Api, shift: bool) -> None:
    assert api.admin("PUT", "quirks", {"spec": "sms-page-cap-21"}).status_code == 200
    for i in range(60):
        send_sms(api, f"+336000{i:05d}")
    pages = NewSmsMidPage(api, shift)
    # Sorted on MessageId as far as the reader knows: the key each part's first row is checked on.
    query = {"FromTS": 1, "ToTS": 4_000_000_000, "Sort": "MessageId"}
    total = pages.count("/v4/sms", query, "/v4/sms/count")
    assert total == 60
    outcomes: list[ReadOutcome] = []
    ids = [
        row["MessageId"]
        for page in pages.read([Listing("/v4/sms", query, total, overlap=True)], list, None, outcomes.append)
        for row in page
    ]
    if shift:  # the parts of a page did not meet: the read cannot stand for the whole listing
        assert not outcomes[0].pages_met and not outcomes[0].whole
    else:  # capped at 21, each page of 50 came in three parts that met: every row once
        assert len(ids) == len(set(ids)) == 60 and outcomes[0].whole
