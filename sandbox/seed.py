"""Deterministic, realistic seed data at any size: contacts with properties, lists (Newsletter, Service
messages and others) with ~5 % unsubscribed members, exclusions, spam complainers, and two years of
campaigns, messages, opens, clicks and bounces ending at the sandbox clock's `now`.

The same seed, sizes and `now` give the same data. Strings that repeat (names, timestamps of a send)
are shared objects, which keeps a million contacts well under the memory budget."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

from sandbox.clock import format_ts
from sandbox.models import Campaign, CampaignDraft, Contact, ContactsList, ListRecipient, Message
from sandbox.store import Store

FIRST_NAMES = [
    "Emma",
    "Louis",
    "Jade",
    "Gabriel",
    "Alice",
    "Raphael",
    "Lina",
    "Arthur",
    "Chloe",
    "Jules",
    "Lea",
    "Adam",
    "Manon",
    "Hugo",
    "Rose",
    "Lucas",
    "Anna",
    "Leo",
    "Camille",
    "Noah",
    "Sarah",
    "Ethan",
    "Ines",
    "Paul",
    "Julia",
    "Tom",
    "Eva",
    "Nathan",
    "Clara",
    "Victor",
    "Zoe",
    "Maxime",
    "Lucie",
    "Theo",
    "Mila",
    "Sacha",
    "Olivia",
    "Liam",
    "Mia",
    "Oliver",
    "Sofia",
    "Elias",
    "Hanna",
    "Finn",
    "Lena",
    "Jonas",
    "Marie",
    "Felix",
    "Laura",
    "Luca",
    "Giulia",
    "Marco",
    "Elena",
    "Mateo",
    "Lucia",
    "Pablo",
    "Carmen",
    "Diego",
    "Nora",
    "Erik",
    "Ingrid",
    "Lars",
    "Astrid",
    "Sven",
    "Freya",
]
LAST_NAMES = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "Andre",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "Francois",
    "Martinez",
    "Muller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Hoffmann",
    "Rossi",
    "Russo",
    "Ferrari",
    "Bianchi",
    "Romano",
    "Colombo",
    "Ricci",
    "Lopez",
    "Sanchez",
    "Perez",
    "Gomez",
    "Fernandez",
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Wilson",
    "Evans",
    "Johnson",
    "Jansen",
    "DeVries",
    "Larsen",
    "Nielsen",
    "Hansen",
]
DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com", "test.example.eu")
COUNTRIES = ("FR", "FR", "FR", "DE", "DE", "ES", "IT", "GB", "NL", "BE", "US", "CH")
# (name, share of all memberships)
LISTS = (
    ("Newsletter", 0.55),
    ("Service messages", 0.30),
    ("Product updates", 0.08),
    ("Events", 0.04),
    ("VIP customers", 0.03),
)
PROPERTIES = (("firstname", "str"), ("lastname", "str"), ("country", "str"), ("orders", "int"))
DAY = 86400
HISTORY_DAYS = 730
AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Version/17.0 Safari",
)
URLS = ("https://shop.example.com/sale", "https://www.example.com/blog/news", "https://shop.example.com/new")


@dataclass(frozen=True)
class SeedSize:
    """How much to generate. Memberships and messages default to one per contact."""

    contacts: int = 1000
    memberships: int | None = None
    messages: int | None = None

    def resolved(self) -> tuple[int, int, int]:
        """(contacts, memberships, messages) with defaults applied."""
        n = max(self.contacts, 0)
        m = n if self.memberships is None else max(self.memberships, 0)
        k = n if self.messages is None else max(self.messages, 0)
        return n, m, k


def seed_store(store: Store, size: SeedSize, seed: int) -> None:
    """Fill an empty store."""
    rng = random.Random(seed)
    n_contacts, n_memberships, n_messages = size.resolved()
    now = store.clock.now()
    start = now - HISTORY_DAYS * DAY
    for name, datatype in PROPERTIES:
        store.create_metadata(name, datatype)
    lists = [store.create_list(name, created_at=format_ts(start - 30 * DAY)) for name, _ in LISTS]
    contacts = _contacts(store, rng, n_contacts, start, now)
    _memberships(store, rng, contacts, lists, n_memberships, now)
    _campaigns_and_messages(store, rng, contacts, lists, n_messages, start, now)


def _contacts(store: Store, rng: random.Random, n: int, start: float, now: float) -> list[Contact]:
    names: dict[tuple[int, int], str] = {}
    out: list[Contact] = []
    span = max(now - DAY - start, 1.0)
    rand = rng.random
    n_first, n_last = len(FIRST_NAMES), len(LAST_NAMES)
    for i in range(n):
        fi, li = int(rand() * n_first), int(rand() * n_last)
        name = names.get((fi, li))
        if name is None:
            name = names[(fi, li)] = f"{FIRST_NAMES[fi]} {LAST_NAMES[li]}"
        created = format_ts(start + span * (i + rand()) / max(n, 1))
        email = f"{FIRST_NAMES[fi].lower()}.{LAST_NAMES[li].lower()}.{i + 1}@{DOMAINS[i % len(DOMAINS)]}"
        roll = rand()
        contact = Contact(
            ID=store.new_id("contact"),
            Email=email,
            Name=name,
            CreatedAt=created,
            LastActivityAt=created,
            LastUpdateAt=created,
            IsExcludedFromCampaigns=roll < 0.01,
            ExclusionFromCampaignsUpdatedAt=created if roll < 0.01 else "",
            IsSpamComplaining=0.01 <= roll < 0.015,
            props=[
                FIRST_NAMES[fi],
                LAST_NAMES[li],
                COUNTRIES[int(rand() * len(COUNTRIES))],
                int(rand() * 12),
            ],
        )
        store.contacts.rows[contact.ID] = contact
        store.contacts_by_email[email] = contact
        out.append(contact)
    store.contacts.touch()
    return out


def _memberships(
    store: Store,
    rng: random.Random,
    contacts: list[Contact],
    lists: list[ContactsList],
    total: int,
    now: float,
) -> None:
    n = len(contacts)
    by_list = store.recipients_by_list
    by_contact = store.recipients_by_contact
    rows = store.recipients.rows
    for (_, share), target in zip(LISTS, lists, strict=True):
        list_id, list_name = target.ID, target.Name
        k = min(round(total * share), n)
        members = by_list[list_id]
        subscribed = 0
        for index in sorted(rng.sample(range(n), k)):
            contact = contacts[index]
            unsub = rng.random() < 0.05
            rec = ListRecipient(
                ID=store.new_id("recipient"),
                ContactID=contact.ID,
                ListID=list_id,
                ListName=list_name,
                SubscribedAt=contact.CreatedAt,
                IsUnsubscribed=unsub,
                UnsubscribedAt=format_ts(now - rng.random() * 300 * DAY) if unsub else "",
            )
            rows[rec.ID] = rec
            members[rec.ID] = rec
            mine = by_contact.get(contact.ID)
            if mine is None:
                by_contact[contact.ID] = [rec]
            else:
                mine.append(rec)
            subscribed += 0 if unsub else 1
        target.SubscriberCount = subscribed
    store.recipients.touch()
    store.lists.touch()


def _campaigns_and_messages(
    store: Store,
    rng: random.Random,
    contacts: list[Contact],
    lists: list[ContactsList],
    n_messages: int,
    start: float,
    now: float,
) -> None:
    newsletter, service, product, events = lists[0], lists[1], lists[2], lists[3]
    plan: list[tuple[float, ContactsList, int, str]] = []  # (send time, list, type, subject)
    week = 7 * DAY
    for i in range(HISTORY_DAYS // 7):
        plan.append((start + i * week + 9 * 3600, newsletter, 2, f"Weekly news #{i + 1}"))
    for i in range(HISTORY_DAYS // 30):
        plan.append((start + i * 30 * DAY + 3 * DAY + 14 * 3600, product, 2, f"What's new, issue {i + 1}"))
    for i in range(8):
        plan.append((start + i * 90 * DAY + 10 * DAY + 11 * 3600, events, 2, f"Invitation: meetup {i + 1}"))
    # Transactional service messages arrive every day, up to today.
    plan.append((start, service, 1, "Your order confirmation"))
    plan.sort(key=lambda p: p[0])

    subscribers: dict[int, list[Contact]] = {}
    for target in lists:
        list_id = target.ID
        subscribers[list_id] = [
            store.contacts.rows[r.ContactID]
            for r in store.recipients_by_list[list_id].values()
            if not r.IsUnsubscribed and not store.contacts.rows[r.ContactID].IsExcludedFromCampaigns
        ]
    marketing_total = sum(len(subscribers[p[1].ID]) for p in plan if p[2] == 2) or 1
    transactional_share = 0.2
    for when, target, ctype, subject in plan:
        list_id = target.ID
        pool = subscribers[list_id]
        if not pool or n_messages == 0:
            continue
        if ctype == 1:
            count = round(n_messages * transactional_share)
        else:
            count = round(n_messages * (1 - transactional_share) * len(pool) / marketing_total)
        if count == 0:
            continue
        stamp = format_ts(when)
        campaign = Campaign(
            ID=store.new_id("campaign", start=7001),
            CampaignType=ctype,
            CreatedAt=stamp,
            CustomValue="order-confirmation" if ctype == 1 else "",
            FirstMessageID=0,
            FromEmail="service@shop.example.com" if ctype == 1 else "news@shop.example.com",
            FromID=1 if ctype == 1 else 2,
            FromName="Example Shop",
            ListID=0 if ctype == 1 else list_id,
            NewsLetterID=0,
            SendStartAt=stamp,
            SendEndAt=format_ts(when + 600 if ctype == 2 else now),
            Subject=subject,
        )
        if ctype == 2:
            draft_id = store.new_id("draft", start=5001)
            campaign.NewsLetterID = draft_id
            campaign.CustomValue = f"mj.nl={draft_id}"
            store.drafts.rows[draft_id] = CampaignDraft(
                ID=draft_id,
                Title=subject,
                Subject=subject,
                Locale="en_US",
                Sender="Example Shop",
                SenderEmail="news@shop.example.com",
                SenderName="Example Shop",
                ContactsListID=list_id,
                CreatedAt=format_ts(when - 2 * DAY),
                ModifiedAt=format_ts(when - DAY),
                Status=2,
                CampaignID=campaign.ID,
                DeliveredAt=stamp,
                Used=True,
                html=f"<h1>{subject}</h1>",
                text=subject,
            )
        store.campaigns.rows[campaign.ID] = campaign
        _messages(store, rng, campaign, pool, count, when, now if ctype == 1 else when + 600, now)
    for i, (title, status) in enumerate((("Spring sale", 0), ("Summer teaser", 0), ("Autumn plans", 1))):
        draft_id = store.new_id("draft", start=5001)
        store.drafts.rows[draft_id] = CampaignDraft(
            ID=draft_id,
            Title=title,
            Subject=title,
            Locale="en_US",
            Sender="Example Shop",
            SenderEmail="news@shop.example.com",
            SenderName="Example Shop",
            ContactsListID=newsletter.ID,
            CreatedAt=format_ts(now - (3 - i) * DAY),
            ModifiedAt=format_ts(now - (3 - i) * DAY + 3600),
            Status=status,
            html=f"<h1>{title}</h1>",
            text=title,
        )
    for table in (store.campaigns, store.drafts, store.messages, store.opens, store.clicks, store.bounces):
        table.touch()


def _messages(
    store: Store,
    rng: random.Random,
    campaign: Campaign,
    pool: list[Contact],
    count: int,
    first: float,
    last: float,
    now: float,
) -> None:
    """`count` messages of a campaign between `first` and `last`, with opens, clicks and bounces, none
    after `now` (the clock at seed time, not read again: a later reading would make events future ones
    on the next run and the data depend on how long seeding took)."""
    rand = rng.random
    stamps: dict[int, str] = {}
    span = max(last - first, 1.0)
    rows = store.messages.rows
    for i in range(count):
        contact = pool[int(rand() * len(pool))]
        at = int(min(first + span * (i + rand()) / count, now))
        stamp = stamps.get(at)
        if stamp is None:
            stamp = stamps[at] = format_ts(at)
        message = Message(
            ID=store.new_message_id(gap=1 + int(rand() * 4096)),
            ArrivedAt=stamp,
            CampaignID=campaign.ID,
            ContactID=contact.ID,
            ContactAlt=contact.Email,
            Subject=campaign.Subject,
            UUID=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            CustomCampaign=campaign.CustomValue if campaign.CampaignType == 1 else "",
        )
        rows[message.ID] = message
        campaign.FirstMessageID = campaign.FirstMessageID or message.ID
        contact.DeliveredCount += 1
        roll = rand()
        # Each event follows the one it derives from, and is clamped to `now` after that offset.
        if roll < 0.004 and at + 3630 <= now:
            # Deferred, retried, then refused: two bounces of one message, an hour apart.
            store.record_bounce(message, at + 30, hard=False, emit=False)
            store.record_bounce(message, at + 3630, hard=True, emit=False)
        elif roll < 0.02:
            store.record_bounce(message, min(at + 30, now), hard=roll < 0.008, emit=False)
        elif roll < 0.32:
            opened = min(at + 60 + rand() * 2 * DAY, now)
            store.record_open(message, opened, AGENTS[int(rand() * len(AGENTS))], emit=False)
            if roll < 0.08:
                store.record_click(message, min(opened + 20, now), URLS[int(rand() * len(URLS))], emit=False)
            elif roll < 0.083 and campaign.CampaignType == 2:
                store.record_unsub(message, min(opened + 30, now), emit=False)
