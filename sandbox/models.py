"""Row types of the stand-in's state. Attribute names are Mailjet's field names; `FIELDS` is the public
projection, in the alphabetical order Mailjet answers with. Timestamps are kept as Mailjet-formatted
strings (`""` when unset): they compare correctly as text and cost nothing to serialize."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, ClassVar


def projector(fields: tuple[str, ...]) -> Callable[[Any], dict[str, Any]]:
    """A fast row -> dict function for the given public fields."""
    getter = attrgetter(*fields)
    if len(fields) == 1:
        return lambda row: {fields[0]: getter(row)}
    return lambda row: dict(zip(fields, getter(row), strict=True))


@dataclass(slots=True)
class Contact:
    ID: int
    Email: str
    Name: str
    CreatedAt: str
    LastActivityAt: str = ""
    LastUpdateAt: str = ""
    DeliveredCount: int = 0
    IsExcludedFromCampaigns: bool = False
    ExclusionFromCampaignsUpdatedAt: str = ""
    IsOptInPending: bool = False
    IsSpamComplaining: bool = False
    UnsubscribedAt: str = ""
    UnsubscribedBy: str = ""
    # Static property values, aligned with the store's property definitions (None = unset).
    props: list[Any] | None = None

    FIELDS: ClassVar[tuple[str, ...]] = (
        "CreatedAt",
        "DeliveredCount",
        "Email",
        "ExclusionFromCampaignsUpdatedAt",
        "ID",
        "IsExcludedFromCampaigns",
        "IsOptInPending",
        "IsSpamComplaining",
        "LastActivityAt",
        "LastUpdateAt",
        "Name",
        "UnsubscribedAt",
        "UnsubscribedBy",
    )


@dataclass(slots=True)
class ContactsList:
    ID: int
    Name: str
    Address: str
    CreatedAt: str
    IsDeleted: bool = False
    SubscriberCount: int = 0

    FIELDS: ClassVar[tuple[str, ...]] = ("Address", "CreatedAt", "ID", "IsDeleted", "Name", "SubscriberCount")


@dataclass(slots=True)
class ListRecipient:
    ID: int
    ContactID: int
    ListID: int
    ListName: str
    SubscribedAt: str
    IsUnsubscribed: bool = False
    UnsubscribedAt: str = ""
    IsActive: bool = True

    FIELDS: ClassVar[tuple[str, ...]] = (
        "ContactID",
        "ID",
        "IsActive",
        "IsUnsubscribed",
        "ListID",
        "ListName",
        "SubscribedAt",
        "UnsubscribedAt",
    )


@dataclass(slots=True)
class ContactMetadata:
    ID: int
    Name: str
    Datatype: str
    NameSpace: str = "static"

    FIELDS: ClassVar[tuple[str, ...]] = ("Datatype", "ID", "Name", "NameSpace")


@dataclass(slots=True)
class Campaign:
    ID: int
    CampaignType: int
    CreatedAt: str
    CustomValue: str
    FirstMessageID: int
    FromEmail: str
    FromID: int
    FromName: str
    ListID: int
    NewsLetterID: int
    SendStartAt: str
    SendEndAt: str
    Subject: str
    Status: int = 2
    ClickTracked: int = 1
    OpenTracked: int = 1
    HasHtmlCount: int = 1
    HasTxtCount: int = 1
    IsDeleted: bool = False
    IsStarred: bool = False
    SegmentationID: int = 0
    SpamassScore: float = 0.0
    UnsubscribeTrackedCount: int = 0
    WorkflowID: int = 0

    FIELDS: ClassVar[tuple[str, ...]] = (
        "CampaignType",
        "ClickTracked",
        "CreatedAt",
        "CustomValue",
        "FirstMessageID",
        "FromEmail",
        "FromID",
        "FromName",
        "HasHtmlCount",
        "HasTxtCount",
        "ID",
        "IsDeleted",
        "IsStarred",
        "ListID",
        "NewsLetterID",
        "OpenTracked",
        "SegmentationID",
        "SendEndAt",
        "SendStartAt",
        "SpamassScore",
        "Status",
        "Subject",
        "UnsubscribeTrackedCount",
        "WorkflowID",
    )


@dataclass(slots=True)
class CampaignDraft:
    ID: int
    Title: str
    Subject: str
    Locale: str
    Sender: str
    SenderEmail: str
    SenderName: str
    ContactsListID: int
    CreatedAt: str
    ModifiedAt: str
    Status: int = 0
    CampaignID: int = 0
    DeliveredAt: str = ""
    EditMode: str = "tool2"
    ReplyEmail: str = ""
    SegmentationID: int = 0
    TemplateID: int = 0
    IsStarred: bool = False
    IsTextPartIncluded: bool = True
    Used: bool = False
    Url: str = ""
    Preset: str = ""
    Current: int = 0
    AXFraction: float = 0.0
    AXFractionName: str = ""
    AXTesting: int = 0
    html: str = ""
    text: str = ""

    FIELDS: ClassVar[tuple[str, ...]] = (
        "AXFraction",
        "AXFractionName",
        "AXTesting",
        "CampaignID",
        "ContactsListID",
        "CreatedAt",
        "Current",
        "DeliveredAt",
        "EditMode",
        "ID",
        "IsStarred",
        "IsTextPartIncluded",
        "Locale",
        "ModifiedAt",
        "Preset",
        "ReplyEmail",
        "SegmentationID",
        "Sender",
        "SenderEmail",
        "SenderName",
        "Status",
        "Subject",
        "TemplateID",
        "Title",
        "Url",
        "Used",
    )


@dataclass(slots=True)
class Message:
    ID: int
    ArrivedAt: str
    CampaignID: int
    ContactID: int
    ContactAlt: str
    Subject: str
    UUID: str
    Status: str = "sent"
    StateID: int = 0
    StatePermanent: bool = False
    AttachmentCount: int = 0
    AttemptCount: int = 1
    Delay: float = 0.0
    DestinationID: int = 14
    FilterTime: int = 0
    MessageSize: int = 20248
    SenderID: int = 1
    SpamassassinScore: float = 0.0
    SpamassRules: str = ""
    IsClickTracked: bool = True
    IsHTMLPartIncluded: bool = True
    IsOpenTracked: bool = True
    IsTextPartIncluded: bool = True
    IsUnsubTracked: bool = True
    CustomID: str = ""
    Payload: str = ""
    CustomCampaign: str = ""

    FIELDS: ClassVar[tuple[str, ...]] = (
        "ArrivedAt",
        "AttachmentCount",
        "AttemptCount",
        "CampaignID",
        "ContactID",
        "Delay",
        "DestinationID",
        "FilterTime",
        "ID",
        "IsClickTracked",
        "IsHTMLPartIncluded",
        "IsOpenTracked",
        "IsTextPartIncluded",
        "IsUnsubTracked",
        "MessageSize",
        "SenderID",
        "SpamassassinScore",
        "SpamassRules",
        "StateID",
        "StatePermanent",
        "Status",
        "UUID",
    )


@dataclass(slots=True)
class OpenInformation:
    MessageID: int
    CampaignID: int
    ContactID: int
    ArrivedAt: str
    OpenedAt: str
    UserAgentID: int
    UserAgentFull: str

    FIELDS: ClassVar[tuple[str, ...]] = (
        "ArrivedAt",
        "CampaignID",
        "ContactID",
        "MessageID",
        "OpenedAt",
        "UserAgentFull",
        "UserAgentID",
    )


@dataclass(slots=True)
class ClickStatistics:
    ID: int
    MessageID: int
    ContactID: int
    CampaignID: int
    ClickedAt: str
    ClickedDelay: int
    Url: str
    UserAgentID: int

    FIELDS: ClassVar[tuple[str, ...]] = (
        "ClickedAt",
        "ClickedDelay",
        "ContactID",
        "ID",
        "MessageID",
        "Url",
        "UserAgentID",
    )


@dataclass(slots=True)
class BounceStatistics:
    ID: int
    MessageID: int
    ContactID: int
    CampaignID: int
    BouncedAt: str
    IsBlocked: bool
    IsStatePermanent: bool
    StateID: int

    FIELDS: ClassVar[tuple[str, ...]] = (
        "BouncedAt",
        "CampaignID",
        "ContactID",
        "ID",
        "IsBlocked",
        "IsStatePermanent",
        "StateID",
    )


@dataclass(slots=True)
class EventCallbackUrl:
    ID: int
    EventType: str
    Url: str
    Version: int = 1
    IsBackup: bool = False
    Status: str = "alive"
    APIKeyID: int = 0

    FIELDS: ClassVar[tuple[str, ...]] = (
        "APIKeyID",
        "EventType",
        "ID",
        "IsBackup",
        "Status",
        "Url",
        "Version",
    )


@dataclass(slots=True)
class Job:
    """An async job: a bulk subscription (managemanycontacts) or a CSV import."""

    ID: int
    kind: str  # "contact" | "list" | "csv"
    RequestAt: str
    created: float
    due: float
    will_fail: bool
    list_id: int = 0
    ContactsLists: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    Method: str = ""
    DataID: int = 0
    ErrTreshold: int = 1
    ImportOptions: str = ""
    Status: str = "Allocated"
    Count: int = 0
    Current: int = 0
    Errcount: int = 0
    Error: str = ""
    ErrorFile: str = ""
    JobStart: str = ""
    JobEnd: str = ""
    AliveAt: str = ""
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_csv: bytes = b""

    BULK_FIELDS: ClassVar[tuple[str, ...]] = (
        "ContactsLists",
        "Count",
        "Error",
        "ErrorFile",
        "JobEnd",
        "JobStart",
        "Status",
    )
    CSV_FIELDS: ClassVar[tuple[str, ...]] = (
        "AliveAt",
        "ContactsListID",
        "Count",
        "Current",
        "DataID",
        "Errcount",
        "ErrTreshold",
        "ID",
        "ImportOptions",
        "JobEnd",
        "JobStart",
        "Method",
        "RequestAt",
        "Status",
    )

    @property
    def ContactsListID(self) -> int:
        return self.list_id


@dataclass(slots=True)
class Sms:
    MessageId: str
    From: str
    To: str
    Text: str
    CreationTS: int
    SentTS: int
    SmsCount: int
    StatusCode: int
    Cost: float
