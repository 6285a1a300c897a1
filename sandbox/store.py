"""The stand-in's state and its Mailjet semantics: contacts, lists, memberships, properties, campaigns,
messages, engagement events, async jobs. Every public method expects `lock` to be held by the caller
(the server holds it for the whole request), so the state is always seen consistently."""

from __future__ import annotations

import hashlib
import heapq
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from sandbox import settings
from sandbox.clock import Clock, format_ts, parse_ts
from sandbox.exceptions import BadRequest, NotFound
from sandbox.lag import ListingLag
from sandbox.models import (
    BounceStatistics,
    Campaign,
    CampaignDraft,
    ClickStatistics,
    Contact,
    ContactMetadata,
    ContactsList,
    EventCallbackUrl,
    Job,
    ListRecipient,
    Message,
    OpenInformation,
    Sms,
)
from sandbox.quirks import Quirks
from sandbox.tables import ResultCache, Table

EMAIL_RE = re.compile(r"^[^@\s\"'<>,;]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")

RFC3339_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")

EventSink = Callable[[dict[str, Any]], None]


def is_valid_email(value: object) -> bool:
    """Syntactic email check, as strict as Mailjet's on the parts that matter (one @, a dotted domain)."""
    return isinstance(value, str) and len(value) <= settings.MAX_EMAIL_LENGTH and bool(EMAIL_RE.match(value))


def coerce_property(datatype: str, value: Any, strict: bool = False) -> Any:
    """A property value checked against its declared datatype; raises ValueError on a mismatch. `strict`
    (the `strict-property-types` quirk): no text is coerced."""
    if value is None:
        return None
    if strict:
        return _strict_property(datatype, value)
    if datatype == "str":
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError("Property type does not match definition")
        text = str(value)
        if len(text) > settings.MAX_PROPERTY_VALUE_LENGTH:
            raise ValueError("Property value too long")
        return text
    if datatype == "int":
        if isinstance(value, bool):
            raise ValueError("Property type does not match definition")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        raise ValueError("Property type does not match definition")
    if datatype == "float":
        if isinstance(value, bool):
            raise ValueError("Property type does not match definition")
        try:
            return float(value)
        except (TypeError, ValueError) as exc:
            raise ValueError("Property type does not match definition") from exc
    if datatype == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            return value.lower() in ("true", "1")
        raise ValueError("Property type does not match definition")
    if datatype == "datetime":
        if isinstance(value, bool):
            raise ValueError("Property type does not match definition")
        try:
            return format_ts(float(value) if isinstance(value, int | float) else parse_ts(str(value)))
        except (ValueError, OverflowError, OSError) as exc:
            raise ValueError("Property type does not match definition") from exc
    raise ValueError(f"Unknown datatype {datatype!r}")


def _strict_property(datatype: str, value: Any) -> Any:
    """`coerce_property` with no coercion from text: each datatype takes its JSON type only (`datetime`:
    RFC 3339 text or Unix seconds)."""
    wrong = ValueError(f"Property type does not match definition ({datatype})")
    if isinstance(value, bool):
        if datatype == "bool":
            return value
        raise wrong
    if datatype == "str" and isinstance(value, str):
        return coerce_property("str", value)
    if datatype == "int" and isinstance(value, int):
        return value
    if datatype == "float" and isinstance(value, int | float):
        return float(value)
    if datatype == "datetime" and isinstance(value, int | float):
        return coerce_property("datetime", value)
    if datatype == "datetime" and isinstance(value, str) and RFC3339_RE.match(value):
        return coerce_property("datetime", value)
    raise wrong


def property_text(value: Any) -> str:
    """How contactdata renders a stored value (Mailjet answers strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


class Store:
    """All sandbox state plus the operations Mailjet defines on it."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.cache = ResultCache()
        self.sink: EventSink | None = None
        self.contacts: Table[Contact] = Table()
        self.contacts_by_email: dict[str, Contact] = {}
        self.lists: Table[ContactsList] = Table()
        self.lists_by_name: dict[str, ContactsList] = {}
        self.recipients: Table[ListRecipient] = Table()
        self.recipients_by_list: dict[int, dict[int, ListRecipient]] = {}
        self.recipients_by_contact: dict[int, list[ListRecipient]] = {}
        # (ContactID, ListID) -> UnsubscribedAt of unsubscribed members removed (quirk remove-keeps-unsub).
        self.removed_unsubs: dict[tuple[int, int], str] = {}
        self.metadata: Table[ContactMetadata] = Table()
        self.property_slots: dict[str, int] = {}
        self.campaigns: Table[Campaign] = Table()
        self.drafts: Table[CampaignDraft] = Table()
        self.messages: Table[Message] = Table()
        self.opens: Table[OpenInformation] = Table()
        self.clicks: Table[ClickStatistics] = Table()
        self.bounces: Table[BounceStatistics] = Table()
        self.callbacks: Table[EventCallbackUrl] = Table()
        self.sms: Table[Sms] = Table()
        self.jobs: dict[int, Job] = {}
        self.uploads: dict[int, tuple[int, bytes]] = {}
        self.events: list[dict[str, Any]] = []
        self._pending_jobs: list[tuple[float, int]] = []
        self._ids: Counter[str] = Counter()
        self.next_message_id = settings.MESSAGE_ID_BASE
        self.job_seconds = settings.DEFAULT_JOB_SECONDS
        self.faults: Any = None
        self.quirks = Quirks()  # sandbox/quirks.py
        self.lag = ListingLag()  # quirk listing-lag
        self.base_url = ""

    def wallclock(self) -> float:
        """Monotonic seconds: async jobs run on real elapsed time, whatever the sandbox clock says."""
        return time.monotonic()

    # ---------------------------------------------------------------- ids

    def new_id(self, kind: str, start: int = 1) -> int:
        """Next ID of a kind; IDs grow so that tables stay in ID order."""
        if self._ids[kind] == 0:
            self._ids[kind] = start - 1
        self._ids[kind] += 1
        return self._ids[kind]

    def new_message_id(self, gap: int = 1) -> int:
        """Next 64-bit message ID."""
        self.next_message_id += gap
        return self.next_message_id

    # ---------------------------------------------------------------- contacts

    def find_contact(self, key: str | int) -> Contact:
        """A contact by numeric ID or by email (case-insensitive); 404 if absent."""
        contact = self.lookup_contact(key)
        if contact is None:
            raise NotFound()
        return contact

    def lookup_contact(self, key: str | int) -> Contact | None:
        """A contact by ID or email, or None."""
        if isinstance(key, int) or key.isdigit():
            return self.contacts.get(int(key))
        return self.contacts_by_email.get(key.lower())

    def create_contact(
        self, email: str, name: str = "", excluded: bool = False, created_at: str | None = None
    ) -> Contact:
        """A new contact; 400 MJ18 if the email exists, 400 if it is not an email."""
        if not is_valid_email(email):
            raise BadRequest(f'Invalid email address: "{email}"')
        if email.lower() in self.contacts_by_email:
            raise BadRequest(f'MJ18 A Contact resource with value "{email}" for Email already exists.')
        now = created_at or self.clock.now_ts()
        contact = Contact(
            ID=self.new_id("contact"),
            Email=email,
            Name=name,
            CreatedAt=now,
            LastUpdateAt=now,
            IsExcludedFromCampaigns=excluded,
            ExclusionFromCampaignsUpdatedAt=now if excluded else "",
        )
        self._insert_contact(contact)
        return contact

    def _insert_contact(self, contact: Contact) -> None:
        self.contacts.add(contact.ID, contact)
        self.contacts_by_email[contact.Email.lower()] = contact

    def ensure_contact(self, email: str, name: str = "") -> Contact:
        """The contact with this email, created when missing (as sends and bulk jobs do)."""
        existing = self.contacts_by_email.get(email.lower())
        if existing is not None:
            if name and existing.Name != name:
                existing.Name = name
                self.touch_contact(existing)
            return existing
        return self.create_contact(email, name)

    def touch_contact(self, contact: Contact) -> None:
        """Record a change to a contact."""
        contact.LastUpdateAt = self.clock.now_ts()
        self.contacts.touch()

    def set_exclusion(self, contact: Contact, excluded: bool) -> bool:
        """Set the global campaign exclusion; returns whether anything changed."""
        if contact.IsExcludedFromCampaigns == excluded:
            return False
        contact.IsExcludedFromCampaigns = excluded
        contact.ExclusionFromCampaignsUpdatedAt = self.clock.now_ts()
        self.touch_contact(contact)
        return True

    def anonymise_contact(self, contact: Contact) -> None:
        """GDPR delete: the contact keeps its ID, loses its identity and every membership."""
        digest = hashlib.sha1(contact.Email.lower().encode()).hexdigest()
        del self.contacts_by_email[contact.Email.lower()]
        contact.Email = f"\\x{digest}@domain.invalid"
        contact.Name = "Anonymized"
        contact.props = None
        self.contacts_by_email[contact.Email.lower()] = contact
        for rec in list(self.recipients_by_contact.get(contact.ID, [])):
            self.remove_recipient(rec)
        self.touch_contact(contact)

    def purge_anonymised(self) -> int:
        """Remove every anonymised contact for good (Mailjet purges them 30 days after a GDPR delete)."""
        gone = [c for c in self.contacts if c.Email.endswith("@domain.invalid") and c.Name == "Anonymized"]
        for contact in gone:
            del self.contacts_by_email[contact.Email.lower()]
            self.contacts.remove(contact.ID)
        return len(gone)

    # ---------------------------------------------------------------- properties

    def create_metadata(self, name: str, datatype: str, namespace: str = "static") -> ContactMetadata:
        """A new property definition; 400 on a duplicate name or unknown datatype."""
        if not isinstance(name, str) or not name.strip() or len(name) > 128:
            raise BadRequest('Invalid value for property "Name"')
        if datatype not in settings.DATATYPES:
            raise BadRequest(f'Invalid value for property "Datatype": "{datatype}"')
        if namespace not in settings.NAMESPACES:
            raise BadRequest(f'Invalid value for property "NameSpace": "{namespace}"')
        if name.lower() in self.property_slots:
            raise BadRequest(f'MJ18 A ContactMetadata resource with value "{name}" for Name already exists.')
        if "property-names-lowercased" in self.quirks:
            name = name.lower()
        meta = ContactMetadata(ID=self.new_id("metadata"), Name=name, Datatype=datatype, NameSpace=namespace)
        self.metadata.add(meta.ID, meta)
        self.property_slots[name.lower()] = len(self.property_slots)
        return meta

    def metadata_by_name(self, name: str) -> ContactMetadata | None:
        """A property definition by (case-insensitive) name."""
        for meta in self.metadata:
            if meta.Name.lower() == name.lower():
                return meta
        return None

    def delete_metadata(self, meta: ContactMetadata) -> None:
        """Drop a definition; its values vanish (their slot is never reused)."""
        self.metadata.remove(meta.ID)
        slot = self.property_slots.pop(meta.Name.lower())
        for contact in self.contacts:
            if contact.props is not None and slot < len(contact.props):
                contact.props[slot] = None
        self.property_slots[f"\x00retired{slot}"] = slot
        self.contacts.touch()

    def validate_properties(self, props: Any) -> dict[int, Any]:
        """Property values by slot, or ValueError naming each bad property (Mailjet's ErrorInfo list)."""
        if props is None:
            return {}
        if not isinstance(props, dict):
            raise ValueError([{"Properties": "must be an object"}])
        out: dict[int, Any] = {}
        problems: list[dict[str, str]] = []
        exact = "property-names-lowercased" in self.quirks
        for name, value in props.items():
            meta = self.metadata_by_name(str(name))
            if meta is not None and exact and meta.Name != name:
                meta = None  # writes look names up with their exact case
            if meta is None or meta.NameSpace != "static":
                problems.append({str(name): "Property not defined"})
                continue
            try:
                strict = "strict-property-types" in self.quirks
                out[self.property_slots[meta.Name.lower()]] = coerce_property(meta.Datatype, value, strict)
            except ValueError as exc:
                problems.append({str(name): str(exc)})
        if problems:
            raise ValueError(problems)
        return out

    def set_properties(self, contact: Contact, values: dict[int, Any]) -> bool:
        """Write validated property values; returns whether anything changed."""
        if not values:
            return False
        width = len(self.property_slots)
        props = contact.props if contact.props is not None else []
        if len(props) < width:
            props.extend([None] * (width - len(props)))
        changed = False
        for slot, value in values.items():
            if props[slot] != value:
                props[slot] = value
                changed = True
        contact.props = props
        if changed:
            self.touch_contact(contact)
        return changed

    def contact_properties(self, contact: Contact) -> list[dict[str, str]]:
        """contactdata's `Data` list: set values only, by property name."""
        props = contact.props
        if not props:
            return []
        out = []
        for meta in self.metadata:
            slot = self.property_slots[meta.Name.lower()]
            if slot < len(props) and props[slot] is not None:
                out.append({"Name": meta.Name, "Value": property_text(props[slot])})
        return out

    # ---------------------------------------------------------------- lists

    def find_list(self, key: str | int) -> ContactsList:
        """A list by ID (or by name, for ListAlt); 404 if absent."""
        found = self.lookup_list(key)
        if found is None:
            raise NotFound()
        return found

    def lookup_list(self, key: str | int) -> ContactsList | None:
        """A list by ID or name, or None."""
        if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
            return self.lists.get(int(key))
        return self.lists_by_name.get(str(key).lower())

    def create_list(
        self, name: str, address: str | None = None, created_at: str | None = None
    ) -> ContactsList:
        """A new contact list; names are unique."""
        if not isinstance(name, str) or not name.strip() or len(name) > settings.MAX_NAME_LENGTH:
            raise BadRequest('Invalid value for property "Name"')
        if name.lower() in self.lists_by_name:
            raise BadRequest(f'MJ18 A ContactsList resource with value "{name}" for Name already exists.')
        list_id = self.new_id("list", start=1001)
        row = ContactsList(
            ID=list_id,
            Name=name,
            Address=address or uuid.uuid5(uuid.NAMESPACE_OID, f"{list_id}:{name}").hex[:9],
            CreatedAt=created_at or self.clock.now_ts(),
        )
        self.lists.add(list_id, row)
        self.lists_by_name[name.lower()] = row
        self.recipients_by_list[list_id] = {}
        return row

    def rename_list(self, row: ContactsList, name: str) -> None:
        """Rename a list; memberships carry the list name, so they change too."""
        if not isinstance(name, str) or not name.strip() or len(name) > settings.MAX_NAME_LENGTH:
            raise BadRequest('Invalid value for property "Name"')
        other = self.lists_by_name.get(name.lower())
        if other is not None and other is not row:
            raise BadRequest(f'MJ18 A ContactsList resource with value "{name}" for Name already exists.')
        del self.lists_by_name[row.Name.lower()]
        row.Name = name
        self.lists_by_name[name.lower()] = row
        for rec in self.recipients_by_list[row.ID].values():
            rec.ListName = name
        self.lists.touch()
        self.recipients.touch()

    # ---------------------------------------------------------------- memberships

    def recipient(self, contact_id: int, list_id: int) -> ListRecipient | None:
        """The membership of a contact in a list, or None."""
        for rec in self.recipients_by_contact.get(contact_id, ()):
            if rec.ListID == list_id:
                return rec
        return None

    def add_recipient(
        self,
        contact: Contact,
        row: ContactsList,
        unsubscribed: bool = False,
        subscribed_at: str | None = None,
        unsubscribed_at: str | None = None,
    ) -> ListRecipient:
        """A new membership (the caller checked there is none)."""
        now = self.clock.now_ts()
        rec = ListRecipient(
            ID=self.new_id("recipient"),
            ContactID=contact.ID,
            ListID=row.ID,
            ListName=row.Name,
            SubscribedAt=subscribed_at if subscribed_at is not None else now,
            IsUnsubscribed=unsubscribed,
            UnsubscribedAt=(unsubscribed_at or now) if unsubscribed else "",
        )
        self.recipients.add(rec.ID, rec)
        self.recipients_by_list[row.ID][rec.ID] = rec
        self.recipients_by_contact.setdefault(contact.ID, []).append(rec)
        if not unsubscribed:
            row.SubscriberCount += 1
            self.lists.touch()
        return rec

    def remove_recipient(self, rec: ListRecipient) -> None:
        """Delete a membership."""
        self.recipients.remove(rec.ID)
        self.recipients_by_list[rec.ListID].pop(rec.ID, None)
        mine = self.recipients_by_contact.get(rec.ContactID, [])
        if rec in mine:
            mine.remove(rec)
        if not mine:
            self.recipients_by_contact.pop(rec.ContactID, None)
        if not rec.IsUnsubscribed:
            self.lists.rows[rec.ListID].SubscriberCount -= 1
            self.lists.touch()

    def set_unsubscribed(self, rec: ListRecipient, unsubscribed: bool, at: float | None = None) -> bool:
        """Flip a membership's subscription state; returns whether it changed."""
        if rec.IsUnsubscribed == unsubscribed:
            return False
        now = self.clock.now_ts() if at is None else format_ts(at)
        rec.IsUnsubscribed = unsubscribed
        if unsubscribed:
            rec.UnsubscribedAt = now
            self.lists.rows[rec.ListID].SubscriberCount -= 1
        else:
            rec.UnsubscribedAt = ""
            rec.SubscribedAt = now
            self.lists.rows[rec.ListID].SubscriberCount += 1
        self.recipients.touch()
        self.lists.touch()
        return True

    def apply_action(self, contact: Contact, row: ContactsList, action: str) -> None:
        """Mailjet's subscription semantics for one contact and one list.

        addforce: add and (re)subscribe, clearing an unsubscription. addnoforce: add when missing, keep
        the existing state (an unsubscribed member stays unsubscribed). unsub: keep or create the
        membership, unsubscribed. remove: delete the membership, and with it the unsubscription.
        Two quirks read the undocumented cases otherwise: `unsub-nonmember-noop` (an unsub of a non-member
        does nothing) and `remove-keeps-unsub` (a removed unsubscribed member is found unsubscribed again by
        a later addnoforce)."""
        rec = self.recipient(contact.ID, row.ID)
        key = (contact.ID, row.ID)
        if action not in settings.ACTIONS:
            raise BadRequest(f'Invalid action "{action}"')
        # An add ends the record of a removed unsubscription (then applied, or overridden by addforce).
        forgotten = self.removed_unsubs.pop(key, None) if action in ("addforce", "addnoforce") else None
        if action == "addforce":
            if rec is None:
                self.add_recipient(contact, row)
            else:
                self.set_unsubscribed(rec, False)
        elif action == "addnoforce":
            if rec is None and forgotten is not None and "remove-keeps-unsub" in self.quirks:
                self.add_recipient(contact, row, unsubscribed=True, unsubscribed_at=forgotten)
            elif rec is None:
                self.add_recipient(contact, row)
        elif action == "unsub":
            if rec is None and "unsub-nonmember-noop" not in self.quirks:
                self.removed_unsubs.pop(key, None)
                self.add_recipient(contact, row, unsubscribed=True)
            elif rec is not None:
                self.set_unsubscribed(rec, True)
        elif rec is not None:
            if rec.IsUnsubscribed and "remove-keeps-unsub" in self.quirks:
                self.removed_unsubs[key] = rec.UnsubscribedAt
            self.remove_recipient(rec)

    # ---------------------------------------------------------------- jobs

    def start_job(self, job: Job) -> Job:
        """Register an async job; it completes (or fails) once the clock of real time reaches `due`."""
        self.jobs[job.ID] = job
        heapq.heappush(self._pending_jobs, (job.due, job.ID))
        return job

    def run_due_jobs(self, now: float) -> None:
        """Finish every job whose time has come (called at the start of each request)."""
        while self._pending_jobs and self._pending_jobs[0][0] <= now:
            _, job_id = heapq.heappop(self._pending_jobs)
            job = self.jobs[job_id]
            if job.Status in (settings.JOB_DONE, settings.JOB_ERROR):
                continue
            from sandbox.jobs import finish_job  # jobs builds on the store: import at use, not at load

            finish_job(self, job)

    def job_status(self, job: Job, now: float) -> str:
        """A running job's intermediate status, by elapsed share of its duration."""
        if job.Status in (settings.JOB_DONE, settings.JOB_ERROR, "Abort"):
            return job.Status
        if "job-status-in-progress" in self.quirks:  # a quirk: the Node SDK's one word for a running job
            return settings.JOB_IN_PROGRESS
        span = max(job.due - job.created, 1e-9)
        step = int((now - job.created) / span * len(settings.JOB_STATUSES))
        return settings.JOB_STATUSES[min(max(step, 0), len(settings.JOB_STATUSES) - 1)]

    # ---------------------------------------------------------------- events

    def emit(self, event: dict[str, Any]) -> None:
        """Record an event and hand it to webhook delivery."""
        self.events.append(event)
        if self.sink is not None:
            self.sink(event)

    def message_event(self, message: Message, kind: str, at: float, **extra: Any) -> dict[str, Any]:
        """An Event API payload for a message."""
        event: dict[str, Any] = {
            "event": kind,
            "time": int(at),
            "MessageID": message.ID,
            "Message_GUID": message.UUID,
            "email": message.ContactAlt,
            "mj_campaign_id": message.CampaignID,
            "mj_contact_id": message.ContactID,
            "customcampaign": message.CustomCampaign,
            "CustomID": message.CustomID,
            "Payload": message.Payload,
        }
        event.update(extra)
        return event

    def record_open(self, message: Message, at: float, agent: str = "Mozilla/5.0", emit: bool = True) -> None:
        """An open of a message: openinformation row, message status, counters, webhook event."""
        first = message.Status == "sent"
        self.opens.add(
            self.new_id("open"),
            OpenInformation(
                MessageID=message.ID,
                CampaignID=message.CampaignID,
                ContactID=message.ContactID,
                ArrivedAt=message.ArrivedAt,
                OpenedAt=format_ts(at),
                UserAgentID=1,
                UserAgentFull=agent,
            ),
        )
        if first:
            message.Status = "opened"
            self.messages.touch()
        if emit:
            self.emit(self.message_event(message, "open", at, ip="127.0.0.1", geo="FR", agent=agent))

    def record_click(self, message: Message, at: float, url: str, emit: bool = True) -> None:
        """A click in a message."""
        arrived = parse_ts(message.ArrivedAt)
        self.clicks.add(
            new := self.new_id("click", start=1_000_001),
            ClickStatistics(
                ID=new,
                MessageID=message.ID,
                ContactID=message.ContactID,
                CampaignID=message.CampaignID,
                ClickedAt=format_ts(at),
                ClickedDelay=max(int(at - arrived), 0),
                Url=url,
                UserAgentID=1,
            ),
        )
        if message.Status in ("sent", "opened"):
            message.Status = "clicked"
            self.messages.touch()
        if emit:
            self.emit(
                self.message_event(
                    message, "click", at, url=url, ip="127.0.0.1", geo="FR", agent="Mozilla/5.0"
                )
            )

    def record_bounce(self, message: Message, at: float, hard: bool, emit: bool = True) -> None:
        """A bounce of a message; a hard bounce is permanent (StateID 1, user unknown)."""
        state = 1 if hard else 3
        self.bounces.add(
            new := self.new_id("bounce", start=2_000_001),
            BounceStatistics(
                ID=new,
                MessageID=message.ID,
                ContactID=message.ContactID,
                CampaignID=message.CampaignID,
                BouncedAt=format_ts(at),
                IsBlocked=False,
                IsStatePermanent=hard,
                StateID=state,
            ),
        )
        message.Status = "hardbounced" if hard else "softbounced"
        message.StateID = state
        message.StatePermanent = hard
        self.messages.touch()
        if emit:
            self.emit(
                self.message_event(
                    message,
                    "bounce",
                    at,
                    blocked=False,
                    hard_bounce=hard,
                    error_related_to="recipient",
                    error="user unknown" if hard else "quota exceeded",
                    comment="550 5.1.1 user unknown" if hard else "452 4.2.2 mailbox full",
                )
            )

    def record_spam(self, message: Message, at: float, emit: bool = True) -> None:
        """A spam complaint: the contact becomes a spam complainer."""
        contact = self.contacts.get(message.ContactID)
        if contact is not None and not contact.IsSpamComplaining:
            contact.IsSpamComplaining = True
            self.touch_contact(contact)
        message.Status = "spam"
        self.messages.touch()
        if emit:
            self.emit(self.message_event(message, "spam", at, source="JMRPP"))

    def record_unsub(self, message: Message, at: float, emit: bool = True) -> None:
        """An unsubscribe click: the membership in the campaign's list becomes unsubscribed."""
        campaign = self.campaigns.get(message.CampaignID)
        list_id = campaign.ListID if campaign is not None else 0
        rec = self.recipient(message.ContactID, list_id) if list_id else None
        if rec is not None:
            self.set_unsubscribed(rec, True, at)
        message.Status = "unsub"
        self.messages.touch()
        if emit:
            self.emit(
                self.message_event(
                    message, "unsub", at, mj_list_id=list_id, ip="127.0.0.1", geo="FR", agent="Mozilla/5.0"
                )
            )

    def send_message(
        self,
        email: str,
        name: str,
        subject: str,
        campaign_id: int,
        at: float,
        custom_id: str = "",
        payload: str = "",
        custom_campaign: str = "",
    ) -> Message:
        """Deliver one message to one recipient (contact created if unknown) and emit `sent`."""
        contact = self.ensure_contact(email, name)
        message = Message(
            ID=self.new_message_id(gap=17),
            ArrivedAt=format_ts(at),
            CampaignID=campaign_id,
            ContactID=contact.ID,
            ContactAlt=contact.Email,
            Subject=subject,
            UUID=str(uuid.uuid4()),
            CustomID=custom_id,
            Payload=payload,
            CustomCampaign=custom_campaign,
        )
        self.messages.add(message.ID, message)
        contact.DeliveredCount += 1
        contact.LastActivityAt = message.ArrivedAt
        self.contacts.touch()
        self.emit(
            self.message_event(
                message,
                "sent",
                at,
                mj_message_id=str(message.ID),
                smtp_reply="sent (250 2.0.0 OK queued as sandbox)",
            )
        )
        return message

    def campaign_for(self, custom_campaign: str, from_email: str, from_name: str, subject: str) -> int:
        """The transactional campaign grouping sends with this CustomCampaign (0 when none is given)."""
        if not custom_campaign:
            return 0
        for campaign in self.campaigns:
            if campaign.CampaignType == 1 and campaign.CustomValue == custom_campaign:
                return campaign.ID
        now = self.clock.now_ts()
        campaign = Campaign(
            ID=self.new_id("campaign", start=7001),
            CampaignType=1,
            CreatedAt=now,
            CustomValue=custom_campaign,
            FirstMessageID=0,
            FromEmail=from_email,
            FromID=1,
            FromName=from_name,
            ListID=0,
            NewsLetterID=0,
            SendStartAt=now,
            SendEndAt=now,
            Subject=subject,
        )
        self.campaigns.add(campaign.ID, campaign)
        return campaign.ID

    def validate_date(self, value: str, name: str) -> float:
        """A FromTS/ToTS-style value to Unix seconds; 400 naming the parameter when unparseable."""
        try:
            seconds = parse_ts(value)
        except (ValueError, OverflowError) as exc:
            raise BadRequest(f'Invalid value for filter "{name}": "{value}"') from exc
        if not 0 <= seconds <= 253402300799:
            raise BadRequest(f'Invalid value for filter "{name}": "{value}" (out of range)')
        return seconds
