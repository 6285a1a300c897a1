"""The page reader on its own: lanes, the rows Mailjet counted against the rows read."""

from __future__ import annotations

import logging

import pytest
from dlt.sources.helpers.rest_client.auth import HttpBasicAuth

from sources.mailjet.client import HttpSettings, MailjetHttp
from sources.mailjet.paging import Listing, PageReader
from tests.conftest import Api


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
