"""Send API v3.1 and SMS API v4."""

from __future__ import annotations

import requests

from tests.conftest import Api

MESSAGE = {"From": {"Email": "shop@example.com", "Name": "Shop"}, "Subject": "Hi", "TextPart": "Hello"}


def test_send_creates_messages_and_contacts(api: Api) -> None:
    body = {"Messages": [{**MESSAGE, "To": [{"Email": "new.person@example.com"}], "CustomID": "order-1"}]}
    response = api.session.post(f"{api.base}/v3.1/send", json=body)
    assert response.status_code == 200
    result = response.json()["Messages"][0]
    assert result["Status"] == "success" and result["CustomID"] == "order-1"
    to = result["To"][0]
    assert (
        to["MessageID"] > 2**53
        and len(to["MessageUUID"]) == 36
        and to["MessageHref"].endswith(str(to["MessageID"]))
    )
    message = api.data(f"message/{to['MessageID']}")[0]
    assert message["UUID"] == to["MessageUUID"]
    assert api.data("contact/new.person@example.com")[0]["DeliveredCount"] == 1


def test_sandbox_mode_sends_nothing(api: Api) -> None:
    before = len(api.app.store.messages)
    body = {"SandboxMode": True, "Messages": [{**MESSAGE, "To": [{"Email": "ghost@example.com"}]}]}
    result = api.session.post(f"{api.base}/v3.1/send", json=body).json()["Messages"][0]
    assert result["To"][0]["MessageID"] == 0 and result["To"][0]["MessageUUID"] == ""
    assert len(api.app.store.messages) == before
    assert api.get("contact/ghost@example.com").status_code == 404


def test_partial_failure_is_400_with_per_message_status(api: Api) -> None:
    body = {
        "Messages": [
            {**MESSAGE, "To": [{"Email": "ok@example.com"}]},
            {"From": MESSAGE["From"], "To": [{"Email": "x@example.com"}]},
        ]
    }
    response = api.session.post(f"{api.base}/v3.1/send", json=body)
    assert response.status_code == 400
    first, second = response.json()["Messages"]
    assert first["Status"] == "success" and second["Status"] == "error"
    assert second["Errors"][0]["ErrorCode"] == "send-0003"


def test_send_global_errors(api: Api) -> None:
    bad_json = api.session.post(
        f"{api.base}/v3.1/send", data=b"{", headers={"Content-Type": "application/json"}
    )
    assert bad_json.status_code == 400 and bad_json.json()["ErrorCode"] == "mj-0002"
    too_many = {"Messages": [{**MESSAGE, "To": [{"Email": f"p{i}@example.com"}]} for i in range(51)]}
    assert api.session.post(f"{api.base}/v3.1/send", json=too_many).json()["ErrorCode"] == "send-0015"


def test_sms_send_list_count(api: Api) -> None:
    bearer = {"Authorization": "Bearer sandbox-sms-token"}
    sent = requests.post(
        f"{api.base}/v4/sms-send",
        json={"From": "MJPilot", "To": "+33600000000", "Text": "Hi"},
        headers=bearer,
    )
    assert sent.status_code == 200
    body = sent.json()
    assert (
        body["Status"] == {"Code": 2, "Name": "sent", "Description": "Message sent"} and body["SmsCount"] == 1
    )
    listed = requests.get(f"{api.base}/v4/sms", headers=bearer).json()
    assert set(listed) == {"Data"} and listed["Data"][0]["MessageId"] == body["MessageId"]
    assert requests.get(f"{api.base}/v4/sms/count", headers=bearer).json() == {"Count": 1}
    one = requests.get(f"{api.base}/v4/sms/{body['MessageId']}", headers=bearer).json()
    assert one["Data"][0]["To"] == "+33600000000"
    bad = requests.post(
        f"{api.base}/v4/sms-send", json={"From": "MJ", "To": "0600", "Text": "x"}, headers=bearer
    )
    assert bad.status_code == 400 and bad.json()["ErrorCode"] == "mj-0005"
