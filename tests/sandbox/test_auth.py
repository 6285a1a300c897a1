"""Authentication: Basic on v3 / v3.1 / v4 contacts, Bearer on v4 SMS, Mailjet's 401 bodies."""

from __future__ import annotations

import requests

from tests.conftest import Api


def test_wrong_secret_is_a_401_with_mailjets_body(shared: Api) -> None:
    response = requests.get(f"{shared.base}/v3/REST/contact", auth=("sandbox-api-key", "wrong"), timeout=10)
    assert response.status_code == 401
    body = response.json()
    assert body["StatusCode"] == 401 and "authentication" in body["ErrorMessage"]
    assert set(body) == {"ErrorInfo", "ErrorMessage", "StatusCode"}


def test_missing_credentials_on_every_api(shared: Api) -> None:
    for method, path in (
        ("GET", "/v3/REST/contactslist"),
        ("POST", "/v3/DATA/contactslist/1001/CSVData/text:plain"),
        ("POST", "/v3.1/send"),
        ("DELETE", "/v4/contacts/1"),
        ("GET", "/v4/sms"),
    ):
        response = requests.request(method, f"{shared.base}{path}", timeout=10)
        assert response.status_code == 401, path


def test_v31_401_has_the_v31_shape(shared: Api) -> None:
    body = requests.post(f"{shared.base}/v3.1/send", auth=("x", "y"), json={}, timeout=10).json()
    assert body["ErrorCode"] == "mj-0015" and body["StatusCode"] == 401 and body["ErrorIdentifier"]


def test_sms_needs_the_bearer_token_not_basic(shared: Api) -> None:
    basic = shared.session.get(f"{shared.base}/v4/sms", timeout=10)
    assert basic.status_code == 401
    bearer = requests.get(
        f"{shared.base}/v4/sms", headers={"Authorization": "Bearer sandbox-sms-token"}, timeout=10
    )
    assert bearer.status_code == 200 and bearer.json() == {"Data": []}
