"""Constants of the local Mailjet stand-in: defaults, limits and Mailjet's fixed vocabularies."""

from __future__ import annotations

from typing import Final, Literal

DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_API_KEY: Final = "sandbox-api-key"
DEFAULT_API_SECRET: Final = "sandbox-api-secret"
DEFAULT_SMS_TOKEN: Final = "sandbox-sms-token"
DEFAULT_SEED: Final = 42
DEFAULT_CONTACTS: Final = 1_000

# The API key's numeric ID, echoed in eventcallbackurl and statcounters rows.
API_KEY_ID: Final = 123456

# API requests kept (with their query parameters) for GET /_sandbox/requests/log.
REQUEST_LOG_SIZE: Final = 20_000

PAGE_DEFAULT: Final = 10
PAGE_MAX: Final = 1000
MAX_BODY_BYTES: Final = 64 * 1024 * 1024
MAX_EMAIL_LENGTH: Final = 255
MAX_NAME_LENGTH: Final = 255
MAX_PROPERTY_VALUE_LENGTH: Final = 4096
SEND_MAX_MESSAGES: Final = 50

# Seeded accounts of at least this many contacts are frozen out of the cyclic GC's scans (sandbox/app.py).
GC_FREEZE_CONTACTS: Final = 50_000

# Seconds an async job (bulk subscription or CSV import) takes from creation to its end state.
DEFAULT_JOB_SECONDS: Final = 0.5
JOB_STATUSES: Final = ("Allocated", "Upload", "Prepare", "Importing")
JOB_DONE: Final = "Completed"
JOB_ERROR: Final = "Error"
JOB_IN_PROGRESS: Final = "In Progress"  # a running job's one status under the quirk job-status-in-progress

# Webhook delivery: retry interval and how long after the first failure delivery is abandoned.
DEFAULT_WEBHOOK_RETRY_SECONDS: Final = 30.0
DEFAULT_WEBHOOK_GIVE_UP_SECONDS: Final = 24 * 3600.0
WEBHOOK_TIMEOUT_SECONDS: Final = 5.0
# The older policy (quirk webhook-retry-10x10min): this many retries, this far apart, then suspended.
WEBHOOK_OLD_RETRIES: Final = 10
WEBHOOK_OLD_RETRY_SECONDS: Final = 600.0

# Message IDs are 64-bit: start above 2**53 so any client that parses them as floats breaks visibly.
MESSAGE_ID_BASE: Final = 576460752303423488

Action = Literal["addforce", "addnoforce", "remove", "unsub"]
ACTIONS: Final = ("addforce", "addnoforce", "remove", "unsub")
CSV_METHODS: Final = (*ACTIONS, "excludemarketing", "includemarketing")

EVENT_TYPES: Final = ("sent", "open", "click", "bounce", "spam", "blocked", "unsub")
# eventcallbackurl's numeric EventType filter.
EVENT_TYPE_CODES: Final = {1: "click", 2: "bounce", 3: "spam", 4: "blocked", 5: "unsub", 6: "open", 7: "sent"}

DATATYPES: Final = ("str", "int", "float", "bool", "datetime")
NAMESPACES: Final = ("static", "historic")

MESSAGE_STATUS_CODES: Final = {
    0: "unknown",
    1: "queued",
    2: "sent",
    3: "opened",
    4: "clicked",
    5: "bounce",
    6: "spam",
    7: "unsub",
    8: "blocked",
    9: "softbounced",
    10: "hardbounced",
    11: "deferred",
}

SMS_STATUSES: Final = {
    1: ("sent_pending", "Message is pending"),
    2: ("sent", "Message sent"),
    3: ("delivered", "Message delivered"),
}

UNAUTHORIZED_MESSAGE: Final = (
    "API key authentication/authorization failure. You may be unauthorized to access the API or your API "
    "key may be expired. Visit API keys management section to check your keys."
)
TOO_MANY_REQUESTS_HTML: Final = (
    b"<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n"
    b"<center><h1>429 Too Many Requests</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
