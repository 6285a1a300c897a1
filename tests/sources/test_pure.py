"""The source's pure pieces with plain data, no server: failures classified from a status and a body,
retry reasons, job outcomes and error reports, time windows and page counts."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from tenacity import RetryCallState, Retrying

from sources.mailjet.exceptions import (
    MailjetAuthError,
    MailjetBadRequest,
    MailjetError,
    MailjetJobFailed,
    MailjetNotFound,
    MailjetRateLimited,
    MailjetServerError,
)
from sources.mailjet.jobs import (
    JobResult,
    csv_report_rows,
    has_error_report,
    is_running,
    job_id_of,
    json_report_rows,
)
from sources.mailjet.paging import page_count
from sources.mailjet.resources import edges
from sources.mailjet.transport import classify, retry_reason, status_error
from sources.mailjet.windows import split_windows

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any socket opened here fails the test: these tests need none."""

    def refuse(*args: Any, **kwargs: Any) -> socket.socket:
        raise AssertionError("a unit test opened a socket")

    monkeypatch.setattr(socket, "socket", refuse)
    yield


def answer(status: int, body: bytes = b"", content_type: str = "application/json") -> requests.Response:
    """An HTTP answer as plain data, never sent over a wire."""
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.headers["Content-Type"] = content_type
    return response


@pytest.mark.parametrize(
    ("status", "body", "kind", "says"),
    [
        pytest.param(401, b"", MailjetAuthError, "MAILJET__API_KEY", id="401"),
        pytest.param(403, b"", MailjetAuthError, "refused the API key (403)", id="403"),
        pytest.param(429, b"<html>Too Many</html>", MailjetRateLimited, "requests_per_second", id="429"),
        pytest.param(503, b"", MailjetServerError, "server error 503", id="503"),
        pytest.param(404, b"", MailjetNotFound, "not found", id="404"),
        pytest.param(
            400, b'{"ErrorMessage": "Invalid email"}', MailjetBadRequest, "Invalid email", id="400-json"
        ),
        pytest.param(400, b"plain words", MailjetBadRequest, "plain words", id="400-text"),
    ],
)
def test_status_error_classifies_an_answer(status: int, body: bytes, kind: type, says: str) -> None:
    failure = status_error("GET", "/v3/REST/contact", answer(status, body), retried=False)
    assert type(failure) is kind
    assert failure is not None and failure.status == status
    assert says in str(failure) and "GET /v3/REST/contact" in str(failure)


@pytest.mark.parametrize("status", [200, 201, 204, 304])
def test_status_error_is_none_for_a_success(status: int) -> None:
    assert status_error("PUT", "/v3/REST/contact/1", answer(status), retried=True) is None


def test_status_error_says_when_it_retried() -> None:
    failure = status_error("GET", "/p", answer(500), retried=True)
    assert str(failure) == "GET /p: Mailjet server error 500 after retrying"
    assert "after retrying" not in str(status_error("GET", "/p", answer(500), retried=False))


def test_classify_a_read_timeout_as_transient() -> None:
    failure = classify(requests.ReadTimeout("no complete answer within 5 s"), "/v3/REST/contact")
    assert type(failure) is MailjetServerError
    assert str(failure) == (
        "GET /v3/REST/contact timed out: ReadTimeout after retrying: no complete answer within 5 s"
    )


def test_classify_a_refused_connection_by_its_os_reason() -> None:
    refused = ConnectionRefusedError(111, "Connection refused")
    exc = requests.ConnectionError("pool gave up")
    exc.__cause__ = refused
    failure = classify(exc, "/v3/REST/contact", "POST", retried=False)
    assert type(failure) is MailjetServerError
    assert str(failure) == "POST /v3/REST/contact: ConnectionError: Connection refused"


def test_classify_an_http_error_by_its_status() -> None:
    failure = classify(requests.HTTPError(response=answer(401)), "/v3/REST/contact")
    assert type(failure) is MailjetAuthError


def test_classify_an_unusable_request_as_terminal() -> None:
    failure = classify(requests.exceptions.InvalidURL("bad url"), "/x")
    assert type(failure) is MailjetError
    assert str(failure) == "GET /x: InvalidURL: bad url"


def state_with(result: Any = None, error: BaseException | None = None) -> RetryCallState:
    """A tenacity attempt that ended with `result` or raised `error`."""
    state = RetryCallState(Retrying(), None, (), {})
    if error is not None:
        state.set_exception((type(error), error, None))
    else:
        state.set_result(result)
    return state


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        pytest.param(state_with(answer(429)), "429", id="429"),
        pytest.param(state_with(answer(502)), "5xx", id="502"),
        pytest.param(state_with(answer(503)), "5xx", id="503"),
        pytest.param(state_with(error=requests.ReadTimeout()), "ReadTimeout", id="timeout"),
        pytest.param(state_with(error=requests.ConnectionError()), "ConnectionError", id="dropped"),
        pytest.param(state_with(error=requests.HTTPError(response=answer(500))), "5xx", id="http-error-500"),
        pytest.param(RetryCallState(Retrying(), None, (), {}), "unknown", id="no-outcome"),
    ],
)
def test_retry_reason(state: RetryCallState, reason: str) -> None:
    assert retry_reason(state) == reason


@pytest.mark.parametrize(
    ("rows", "job_id"),
    [
        pytest.param([{"JobID": 42}], 42, id="bulk-job"),
        pytest.param([{"ID": 7, "Status": "Upload"}], 7, id="csv-import"),
        pytest.param([{"JobID": 3, "ID": 9}], 3, id="jobid-first"),
        pytest.param([], None, id="no-row"),
        pytest.param([{"JobID": "42"}], None, id="text-id"),
        pytest.param([{"JobID": True}], None, id="bool-id"),
        pytest.param(["42"], None, id="not-an-object"),
    ],
)
def test_job_id_of_a_start_answer(rows: list[Any], job_id: int | None) -> None:
    assert job_id_of(rows) == job_id


@pytest.mark.parametrize(
    ("status", "running"),
    [
        ("Pending", True),
        ("In Progress", True),
        ("Completed", False),
        ("Error", False),
        ("Abort", False),
        (None, True),
    ],
)
def test_is_running(status: str | None, running: bool) -> None:
    assert is_running({"Status": status}) is running


@pytest.mark.parametrize(
    ("job", "has_report"),
    [
        pytest.param({"Status": "Completed", "Errcount": 0, "ErrorFile": ""}, False, id="clean"),
        pytest.param({"Status": "Completed", "Errcount": 2}, True, id="errcount"),
        pytest.param({"Status": "Error", "ErrorFile": "https://x/errors.csv"}, True, id="error-file"),
        pytest.param({"Status": "Completed", "Errcount": "2"}, False, id="errcount-as-text"),
        pytest.param({"Status": "Abort"}, False, id="nothing-named"),
    ],
)
def test_has_error_report(job: dict[str, Any], has_report: bool) -> None:
    assert has_error_report(job) is has_report


def test_a_completed_job_with_refused_contacts_has_not_failed() -> None:
    errors = [{"Email": "bad@", "Error": "invalid email"}]
    result = JobResult(
        5, "Completed", {"Status": "Completed", "Errcount": 1}, errors, ["Pending", "Completed"]
    )
    assert not result.failed
    assert result.raise_if_failed() is result


@pytest.mark.parametrize(
    ("status", "job", "message"),
    [
        pytest.param(
            "Error", {"Error": "list not found"}, "job 5 ended Error: list not found (1 ", id="error"
        ),
        pytest.param(
            "Abort", {}, "job 5 ended Abort: no detail (1 contact(s) in its error report)", id="abort"
        ),
    ],
)
def test_a_job_ended_in_error_or_abort_fails(status: str, job: dict[str, Any], message: str) -> None:
    result = JobResult(5, status, job, [{"Email": "a@example.com"}], [status])
    assert result.failed
    with pytest.raises(MailjetJobFailed) as raised:
        result.raise_if_failed()
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(
    ("body", "rows"),
    [
        pytest.param({"Errors": [{"Email": "a@"}]}, [{"Email": "a@"}], id="errors"),
        pytest.param({"Data": [{"Email": "b@"}], "Count": 1}, [{"Email": "b@"}], id="data"),
        pytest.param([{"Email": "c@"}], [{"Email": "c@"}], id="bare-list"),
        pytest.param({"Errors": []}, [], id="empty"),
        pytest.param({"Count": 0}, None, id="no-rows"),
        pytest.param({"Errors": ["a@"]}, None, id="not-objects"),
        pytest.param("oops", None, id="text"),
    ],
)
def test_json_report_rows(body: Any, rows: list[dict[str, Any]] | None) -> None:
    assert json_report_rows(body) == rows


def test_csv_report_rows_drop_the_byte_order_mark() -> None:
    content = "\ufeffemail,name,error\nbad@,Ann,invalid email\n".encode()
    assert csv_report_rows(content) == [{"email": "bad@", "name": "Ann", "error": "invalid email"}]


@pytest.mark.parametrize(
    ("lo", "hi", "filters"),
    [
        pytest.param(100, 200, {"FromTS": 99, "ToTS": 201}, id="one-second-wider"),
        pytest.param(1, 50, {"FromTS": 1, "ToTS": 51}, id="never-below-1"),
        pytest.param(0, 0, {"FromTS": 1, "ToTS": 1}, id="zero-means-today-so-1"),
    ],
)
def test_edges(lo: int, hi: int, filters: dict[str, int]) -> None:
    assert edges(lo, hi) == filters


def counter(stamps: list[int], calls: list[list[tuple[int, int]]]) -> Any:
    """A `count` over rows at these Unix seconds, recording each batch of windows it is asked for."""

    def count(spans: list[tuple[int, int]]) -> list[int]:
        calls.append(spans)
        return [sum(lo <= s <= hi for s in stamps) for lo, hi in spans]

    return count


def test_split_windows_halves_until_each_holds_max_rows() -> None:
    calls: list[list[tuple[int, int]]] = []
    stamps = [1, 2, 3, 4, 5, 6, 7, 8]
    assert split_windows(counter(stamps, calls), 1, 8, 2) == [(1, 2, 2), (3, 4, 2), (5, 6, 2), (7, 8, 2)]
    assert calls == [[(1, 8)], [(1, 4), (5, 8)], [(1, 2), (3, 4), (5, 6), (7, 8)]]


def test_split_windows_drops_empty_windows_and_keeps_a_crowded_second() -> None:
    stamps = [10, 10, 10, 10, 90]
    assert split_windows(counter(stamps, []), 1, 100, 2) == [(10, 10, 4), (51, 100, 1)]


def test_split_windows_of_nothing() -> None:
    assert split_windows(counter([], []), 1, 100, 10) == []


@pytest.mark.parametrize(
    ("total", "page_size", "step", "pages"),
    [
        pytest.param(0, 1000, 1000, 0, id="empty"),
        pytest.param(-1, 1000, 1000, 0, id="negative"),
        pytest.param(1000, 1000, 1000, 1, id="one-full-page"),
        pytest.param(1001, 1000, 1000, 2, id="one-more"),
        pytest.param(1999, 1000, 999, 2, id="overlap-fits"),
        pytest.param(2000, 1000, 999, 3, id="overlap-one-more"),
        pytest.param(5, 1000, 999, 1, id="short"),
    ],
)
def test_page_count(total: int, page_size: int, step: int, pages: int) -> None:
    assert page_count(total, page_size, step) == pages
