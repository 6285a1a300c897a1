"""Admin endpoints under `/_sandbox/` — never part of the Mailjet surface, never counted, never faulted.

GET  /_sandbox/health                 liveness and sizes
GET  /_sandbox/summary                row counts per resource, subscribed/unsubscribed per list
POST /_sandbox/reset                  {"seed", "contacts", "memberships", "messages"} -> fresh state
GET  /_sandbox/requests               API requests counted per "METHOD /path" (IDs as {id})
DELETE /_sandbox/requests             reset those counters (and the log)
GET  /_sandbox/requests/log           the latest API requests: method, path and query parameters
POST /_sandbox/contacts/purge         purge GDPR-deleted (anonymised) contacts now, as Mailjet does
                                      30 days after the delete
GET  /_sandbox/clock                  the sandbox time
POST /_sandbox/clock                  {"advance": seconds} or {"set": unix-or-RFC3339}
GET|PUT /_sandbox/faults              read or replace faults: {"spec": "rate_limit=20,..."}
POST /_sandbox/events                 {"event": "open|click|bounce|spam|unsub|sent|blocked", "email"?,
                                      "message_id"?, "hard"?, "url"?} -> engagement on a message
POST /_sandbox/engagement             {"opens", "clicks", "bounces", "unsubs", "spam", "seed"}:
                                      random engagement on recent messages
POST /_sandbox/campaigns              {"list": name-or-id, "subject"?} -> a campaign sent now to the list
POST /_sandbox/jobs/finish            finish every pending async job now
GET  /_sandbox/webhooks               webhook delivery attempts
POST /_sandbox/webhooks/flush         attempt every queued delivery (retries too) now, once, and wait for it
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from sandbox import settings
from sandbox.clock import parse_ts
from sandbox.exceptions import ApiError, BadRequest, NotFound, SandboxConfigError
from sandbox.faults import Faults
from sandbox.http_types import Reply
from sandbox.models import CampaignDraft, Message
from sandbox.quirks import parse_quirks
from sandbox.resources import send_draft
from sandbox.seed import SeedSize

if TYPE_CHECKING:
    from sandbox.app import SandboxApp


class Admin:
    """Handles `/_sandbox/...` requests."""

    def __init__(self, app: SandboxApp) -> None:
        self.app = app

    def handle(self, method: str, parts: list[str], params: dict[str, str], body: bytes) -> Reply:
        """Answer an admin request; errors use Mailjet's shape so clients parse them alike."""
        try:
            return self._route(method, [p.lower() for p in parts], body)
        except ApiError as exc:
            return Reply(status=exc.status, payload=exc.body())
        except SandboxConfigError as exc:
            return Reply(status=400, payload={"ErrorInfo": "", "ErrorMessage": str(exc), "StatusCode": 400})

    def _json(self, body: bytes) -> dict[str, Any]:
        if not body.strip():
            return {}
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"Invalid json input: {exc.msg}") from exc
        if not isinstance(value, dict):
            raise BadRequest("Invalid json input: expected an object")
        return value

    def _route(self, method: str, parts: list[str], body: bytes) -> Reply:
        app = self.app
        path = "/".join(parts)
        if path == "health" and method == "GET":
            return Reply(
                payload={"status": "ok", "base_url": app.base_url, "contacts": len(app.store.contacts)}
            )
        if path == "summary" and method == "GET":
            return Reply(payload=self.summary())
        if path == "reset" and method == "POST":
            data = self._json(body)
            size = SeedSize(
                int(data.get("contacts", app.config.contacts)),
                data.get("memberships", app.config.memberships),
                data.get("messages", app.config.messages),
            )
            app.reseed(int(data.get("seed", app.config.seed)), size)
            return Reply(
                payload={"status": "reset", "seconds": round(app.seconds_to_seed, 3), **self.summary()}
            )
        if path == "requests":
            if method == "GET":
                with app.stats_lock:
                    counts = dict(sorted(app.dispatcher.counts.items()))
                return Reply(payload={"total": sum(counts.values()), "by_endpoint": counts})
            if method == "DELETE":
                with app.stats_lock:
                    app.dispatcher.counts.clear()
                    app.dispatcher.log.clear()
                return Reply(status=204)
        if path == "requests/log" and method == "GET":
            with app.stats_lock:
                return Reply(payload={"requests": list(app.dispatcher.log)})
        if path == "contacts/purge" and method == "POST":
            with app.store.lock:
                return Reply(payload={"purged": app.store.purge_anonymised()})
        if path == "clock":
            clock = app.store.clock
            if method == "POST":
                data = self._json(body)
                if "advance" in data:
                    clock.advance(float(data["advance"]))
                elif "set" in data:
                    try:
                        clock.set(parse_ts(str(data["set"])))
                    except ValueError as exc:
                        raise BadRequest(str(exc)) from exc
                else:
                    raise BadRequest('Expected {"advance": seconds} or {"set": instant}')
            return Reply(payload={"now": clock.now_ts(), "epoch": int(clock.now())})
        if path == "faults":
            if method == "PUT":
                data = self._json(body)
                spec = data.get("spec", "")
                new = Faults.parse(str(spec))
                app.faults = new
                app.store.faults = new
            return Reply(payload=app.faults.describe())
        if path == "quirks":
            if method == "PUT":
                try:
                    chosen = parse_quirks(str(self._json(body).get("spec", "")))
                except SandboxConfigError as exc:
                    raise BadRequest(str(exc)) from None
                app.quirks = chosen
                app.store.quirks = chosen
                with app.store.lock:
                    app.store.cache.clear()
            return Reply(payload={"quirks": app.quirks.spec()})
        if path == "events" and method == "POST":
            return self.event(self._json(body))
        if path == "engagement" and method == "POST":
            return self.engagement(self._json(body))
        if path == "campaigns" and method == "POST":
            return self.campaign(self._json(body))
        if path == "jobs/finish" and method == "POST":
            with app.store.lock:
                for job in app.store.jobs.values():
                    job.due = min(job.due, app.store.wallclock())
                app.store._pending_jobs = sorted((j.due, j.ID) for j in app.store.jobs.values())
                app.store.run_due_jobs(app.store.wallclock())
            return Reply(payload={"jobs": len(app.store.jobs)})
        if path == "webhooks" and method == "GET":
            return Reply(payload={"pending": app.webhooks.pending(), "deliveries": list(app.webhooks.log)})
        if path == "webhooks/flush" and method == "POST":
            done = app.webhooks.flush()
            return Reply(payload={"flushed": done, "pending": app.webhooks.pending()})
        raise NotFound(f"Unknown admin endpoint: {method} /_sandbox/{path}")

    def summary(self) -> dict[str, Any]:
        """Row counts per resource and member counts per list."""
        store = self.app.store
        with store.lock:
            lists = {}
            for row in store.lists:
                members = store.recipients_by_list.get(row.ID, {}).values()
                unsub = sum(1 for r in members if r.IsUnsubscribed)
                lists[row.Name] = {
                    "id": row.ID,
                    "members": len(members),
                    "subscribed": len(members) - unsub,
                    "unsubscribed": unsub,
                }
            return {
                "contacts": len(store.contacts),
                "contactslists": len(store.lists),
                "listrecipients": len(store.recipients),
                "contactmetadata": len(store.metadata),
                "campaigns": len(store.campaigns),
                "campaigndrafts": len(store.drafts),
                "messages": len(store.messages),
                "openinformation": len(store.opens),
                "clickstatistics": len(store.clicks),
                "bouncestatistics": len(store.bounces),
                "events": len(store.events),
                "lists": lists,
                "now": store.clock.now_ts(),
            }

    def _message_for(self, data: dict[str, Any]) -> Message:
        store = self.app.store
        if data.get("message_id") is not None:
            found = store.messages.get(int(data["message_id"]))
            if found is None:
                raise NotFound(f"No message {data['message_id']}")
            return found
        email = str(data.get("email") or "")
        contact = store.lookup_contact(email) if email else None
        if contact is None:
            raise NotFound(f'No contact "{email}": give "email" of a contact with a message, or "message_id"')
        for message in reversed(store.messages.ordered()):
            if message.ContactID == contact.ID:
                return message
        raise NotFound(f'Contact "{email}" has received no message')

    def event(self, data: dict[str, Any]) -> Reply:
        """Simulate one engagement event on a message (and deliver it to webhooks)."""
        kind = data.get("event")
        store = self.app.store
        with store.lock:
            message = self._message_for(data)
            at = store.clock.now()
            if kind == "open":
                store.record_open(message, at)
            elif kind == "click":
                store.record_click(message, at, str(data.get("url") or "https://www.example.com/"))
            elif kind == "bounce":
                store.record_bounce(message, at, hard=bool(data.get("hard", True)))
            elif kind == "spam":
                store.record_spam(message, at)
            elif kind == "unsub":
                store.record_unsub(message, at)
            elif kind in ("sent", "blocked"):
                store.emit(store.message_event(message, kind, at))
            else:
                raise BadRequest(f'Unknown event "{kind}": use one of {", ".join(settings.EVENT_TYPES)}')
            return Reply(payload={"event": kind, "MessageID": message.ID, "email": message.ContactAlt})

    def engagement(self, data: dict[str, Any]) -> Reply:
        """Random engagement on the latest marketing messages: opens, clicks, bounces, unsubs, spam."""
        store = self.app.store
        rng = random.Random(int(data.get("seed", 0)))
        with store.lock:
            recent = [m for m in store.messages.ordered()[-5000:] if m.Status in ("sent", "opened")]
            done: dict[str, int] = {}
            at = store.clock.now()
            actions: tuple[tuple[str, Callable[[Message], None]], ...] = (
                ("opens", lambda m: store.record_open(m, at)),
                ("clicks", lambda m: store.record_click(m, at, "https://www.example.com/")),
                ("bounces", lambda m: store.record_bounce(m, at, hard=True)),
                ("unsubs", lambda m: store.record_unsub(m, at)),
                ("spam", lambda m: store.record_spam(m, at)),
            )
            for kind, action in actions:
                n = min(int(data.get(kind, 0)), len(recent))
                for message in rng.sample(recent, n):
                    action(message)
                done[kind] = n
            return Reply(payload=done)

    def campaign(self, data: dict[str, Any]) -> Reply:
        """Send a new campaign to a list now, as if made and sent in Mailjet's app."""
        store = self.app.store
        with store.lock:
            target = store.lookup_list(data.get("list", "Newsletter"))
            if target is None:
                raise NotFound(f'No list "{data.get("list")}"')
            now = store.clock.now_ts()
            subject = str(data.get("subject") or "Fresh news")
            draft = CampaignDraft(
                ID=store.new_id("draft", start=5001),
                Title=subject,
                Subject=subject,
                Locale="en_US",
                Sender="Example Shop",
                SenderEmail="news@shop.example.com",
                SenderName="Example Shop",
                ContactsListID=target.ID,
                CreatedAt=now,
                ModifiedAt=now,
                html=f"<h1>{subject}</h1>",
                text=subject,
            )
            store.drafts.add(draft.ID, draft)
            campaign = send_draft(store, draft)
            sent = sum(1 for m in store.messages.ordered() if m.CampaignID == campaign.ID)
            return Reply(
                status=201, payload={"CampaignID": campaign.ID, "DraftID": draft.ID, "messages": sent}
            )
