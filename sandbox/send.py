"""The Send API v3.1, the SMS API v4 and the v4 GDPR contact delete."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from sandbox import settings
from sandbox.exceptions import MethodNotAllowed, NotFound, V31Error
from sandbox.http_types import Reply, Request
from sandbox.models import Sms
from sandbox.query import int_param, paging, str_param
from sandbox.store import Store, is_valid_email


def _recipients(message: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = message.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise V31Error("mj-0004", 'Type mismatch. Expected type "array of emails".', related=[key])
    return value


def _check_message(message: Any) -> list[dict[str, Any]]:
    """Per-message validation errors (empty when the message can be sent)."""
    errors: list[dict[str, Any]] = []

    def err(code: str, text: str, related: list[str]) -> None:
        errors.append(
            {
                "ErrorIdentifier": _uuid(),
                "ErrorCode": code,
                "StatusCode": 400,
                "ErrorMessage": text,
                "ErrorRelatedTo": related,
            }
        )

    if not isinstance(message, dict):
        err("mj-0004", 'Type mismatch. Expected type "message".', [])
        return errors
    sender = message.get("From")
    if not isinstance(sender, dict) or not is_valid_email(sender.get("Email")):
        err("send-0011", '"From" is missing or has an invalid "Email".', ["From"])
    try:
        to = _recipients(message, "To")
        everyone = to + _recipients(message, "Cc") + _recipients(message, "Bcc")
    except V31Error as exc:
        err(exc.code, str(exc.message), exc.related)
        return errors
    if not to:
        err("send-0008", 'At least one recipient is required in "To".', ["To"])
    if len({str(r.get("Email", "")).lower() for r in everyone}) > settings.SEND_MAX_MESSAGES:
        err("send-0015", "Total number of recipients exceeded. Max allowed - 50", ["To", "Cc", "Bcc"])
    for i, r in enumerate(everyone):
        if not is_valid_email(r.get("Email")):
            err("mj-0013", f'"{r.get("Email")}" is an invalid email address.', [f"To[{i}].Email"])
    if not any(message.get(k) for k in ("TextPart", "HTMLPart", "TemplateID")):
        err(
            "send-0003",
            'At least "HTMLPart", "TextPart" or "TemplateID" must be provided.',
            ["HTMLPart", "TextPart"],
        )
    subject = message.get("Subject")
    if subject is not None and (not isinstance(subject, str) or len(subject) > 255):
        err("mj-0006", '"Subject" must be a string of at most 255 characters.', ["Subject"])
    return errors


def _uuid() -> str:
    import uuid

    return str(uuid.uuid4())


def send_v31(store: Store, req: Request) -> Reply:
    """POST /v3.1/send: validate every message, send the valid ones, report each."""
    if req.method != "POST":
        raise MethodNotAllowed(req.method, "send")
    try:
        body = req.json_object()
    except Exception as exc:
        raise V31Error("mj-0002", "Malformed JSON, please review the syntax and properties types.") from exc
    messages = body.get("Messages")
    if not isinstance(messages, list):
        raise V31Error("mj-0003", 'Missing mandatory property "Messages".', related=["Messages"])
    if not messages:
        raise V31Error("mj-0007", 'The "Messages" array is empty.', related=["Messages"])
    if len(messages) > settings.SEND_MAX_MESSAGES:
        raise V31Error(
            "send-0015", "Total number of recipients exceeded. Max allowed - 50", related=["Messages"]
        )
    sandbox_mode = body.get("SandboxMode") is True
    raw_globals = body.get("Globals")
    globals_: dict[str, Any] = raw_globals if isinstance(raw_globals, dict) else {}
    results: list[dict[str, Any]] = []
    failed = False
    now = store.clock.now()
    for raw in messages:
        message = {**globals_, **raw} if isinstance(raw, dict) else raw
        errors = _check_message(message)
        if errors:
            failed = True
            results.append({"Status": "error", "Errors": errors})
            continue
        out: dict[str, Any] = {
            "Status": "success",
            "CustomID": message.get("CustomID") or "",
            "To": [],
            "Cc": [],
            "Bcc": [],
        }
        custom = str(message.get("CustomCampaign") or "")
        sender = message["From"]
        campaign_id = (
            0
            if sandbox_mode
            else store.campaign_for(
                custom, sender["Email"], str(sender.get("Name") or ""), str(message.get("Subject") or "")
            )
        )
        for kind in ("To", "Cc", "Bcc"):
            for r in _recipients(message, kind):
                if sandbox_mode:
                    out[kind].append(
                        {"Email": r["Email"], "MessageUUID": "", "MessageID": 0, "MessageHref": ""}
                    )
                    continue
                sent = store.send_message(
                    r["Email"],
                    str(r.get("Name") or ""),
                    str(message.get("Subject") or ""),
                    campaign_id,
                    now,
                    custom_id=str(message.get("CustomID") or ""),
                    payload=str(message.get("EventPayload") or ""),
                    custom_campaign=custom,
                )
                out[kind].append(
                    {
                        "Email": r["Email"],
                        "MessageUUID": sent.UUID,
                        "MessageID": sent.ID,
                        "MessageHref": f"{store.base_url}/v3/REST/message/{sent.ID}",
                    }
                )
        results.append(out)
    return Reply(status=400 if failed else 200, payload={"Messages": results})


def _sms_id(store: Store, sms: Sms) -> str:
    """An SMS's `MessageId`: a numeric string, or a UUID under the quirk `sms-uuid-ids`."""
    if "sms-uuid-ids" in store.quirks:
        return str(uuid.UUID(int=int(sms.MessageId)))
    return sms.MessageId


def _sms_row(store: Store, sms: Sms) -> dict[str, Any]:
    name, description = settings.SMS_STATUSES.get(sms.StatusCode, ("unknown", "Unknown"))
    return {
        "From": sms.From,
        "To": sms.To,
        "Status": {"Code": sms.StatusCode, "Name": name, "Description": description},
        "MessageId": _sms_id(store, sms),
        "CreationTS": sms.CreationTS,
        "SentTS": sms.SentTS,
        "SMSCount": sms.SmsCount,
        "Cost": {"Value": sms.Cost, "Currency": "EUR"},
    }


def v4(store: Store, req: Request) -> Reply:
    """`/v4/sms-send`, `/v4/sms[/{id}|/count]`, `DELETE /v4/contacts/{id}`."""
    parts = [p.lower() for p in req.parts]
    head = parts[0] if parts else ""
    if head == "contacts":
        if req.method != "DELETE" or len(parts) != 2:
            raise MethodNotAllowed(req.method, "v4/contacts")
        if not parts[1].isdigit():
            raise NotFound()
        contact = store.contacts.get(int(parts[1]))
        if contact is None:
            raise NotFound()
        store.anonymise_contact(contact)
        return Reply(status=200, payload={"ContactID": contact.ID, "Status": "anonymized"})
    if head == "sms-send":
        if req.method != "POST":
            raise MethodNotAllowed(req.method, "sms-send")
        try:
            body = req.json_object()
        except Exception as exc:
            raise V31Error("mj-0002", "Malformed JSON.") from exc
        sender, to, text = body.get("From"), body.get("To"), body.get("Text")
        if not isinstance(sender, str) or not (3 <= len(sender) <= 11) or not sender.isalnum():
            raise V31Error(
                "mj-0005", '"From" must be an alphanumeric sender ID of 3 to 11 characters.', related=["From"]
            )
        if (
            not isinstance(to, str)
            or not to.startswith("+")
            or not to[1:].isdigit()
            or not 8 <= len(to) <= 16
        ):
            raise V31Error("mj-0005", '"To" must be a phone number in E.164 format.', related=["To"])
        if not isinstance(text, str) or not text:
            raise V31Error("mj-0003", 'Missing mandatory property "Text".', related=["Text"])
        now = int(store.clock.now())
        count = max(1, -(-len(text) // 160))
        sms = Sms(
            MessageId=str(2034075536371630429 + store.new_id("sms")),
            From=sender,
            To=to,
            Text=text,
            CreationTS=now,
            SentTS=now,
            SmsCount=count,
            StatusCode=2,
            Cost=round(0.0012 * count, 4),
        )
        store.sms.add(int(sms.MessageId), sms)
        row = _sms_row(store, sms)
        return Reply(
            status=200,
            payload={
                "From": sms.From,
                "To": sms.To,
                "Text": sms.Text,
                "MessageId": row["MessageId"],
                "SmsCount": sms.SmsCount,
                "CreationTS": sms.CreationTS,
                "SentTS": sms.SentTS,
                "Cost": row["Cost"],
                "Status": row["Status"],
            },
        )
    if head == "sms":
        if req.method != "GET":
            raise MethodNotAllowed(req.method, "sms")
        if len(parts) >= 2 and parts[1] != "count":
            key = parts[1]
            with contextlib.suppress(ValueError):
                key = str(uuid.UUID(key).int)  # a UUID MessageId (quirk sms-uuid-ids)
            found = store.sms.get(int(key)) if key.isdigit() else None
            if found is None:
                raise NotFound()
            return Reply(payload={"Data": [_sms_row(store, found)]})
        now = int(store.clock.now())
        start = int_param(req, "FromTS", now - 92 * 86400)
        end = int_param(req, "ToTS", now)
        to = str_param(req, "To")
        codes_raw = str_param(req, "StatusCode")
        codes = {int(c) for c in codes_raw.split(",") if c.strip().isdigit()} if codes_raw else None
        rows = [
            s
            for s in store.sms
            if start is not None
            and end is not None
            and start <= s.CreationTS <= end
            and (to is None or s.To == to)
            and (codes is None or s.StatusCode in codes)
        ]
        if len(parts) >= 2:
            return Reply(payload={"Count": len(rows)})
        rows.sort(key=lambda s: s.CreationTS, reverse=True)
        limit, offset, _ = paging(req)
        if "sms-page-cap-21" in store.quirks:
            limit = min(limit, 21)  # a quirk: at most 21 rows per call, whatever Limit says
        return Reply(payload={"Data": [_sms_row(store, s) for s in rows[offset : offset + limit]]})
    raise V31Error("mj-0001", f'Unknown resource: "{"/".join(req.parts)}"', status=404)
