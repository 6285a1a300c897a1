"""What the CSV reader recognizes and accepts: column names, status words, limits, dialects."""

from __future__ import annotations

from typing import Final

# Header names are compared after lowercasing and dropping everything but letters and digits, so
# `E-mail`, `Email Address` and `EMAIL_ADDRESS` all match.
EMAIL_HEADERS: Final = frozenset(
    {"email", "emailaddress", "mail", "emailadresse", "adresseemail", "adressemail", "courriel"}
)
NAME_HEADERS: Final = frozenset({"name", "fullname", "contactname"})
# A column saying whether the contact is subscribed (its words below), or one saying the opposite.
STATUS_HEADERS: Final = frozenset(
    {"status", "subscriptionstatus", "subscription", "subscribed", "issubscribed", "optin"}
)
UNSUBSCRIBED_HEADERS: Final = frozenset({"unsubscribed", "isunsubscribed", "optout"})

# Values of a status column (lowercased, stripped). TRUE/FALSE are what spreadsheets write for booleans.
SUBSCRIBED_WORDS: Final = frozenset(
    {"subscribed", "subscribe", "sub", "active", "true", "yes", "y", "1", "opt-in", "optin", "opted in"}
)
UNSUBSCRIBED_WORDS: Final = frozenset(
    {
        "unsubscribed",
        "unsubscribe",
        "unsub",
        "inactive",
        "false",
        "no",
        "n",
        "0",
        "opt-out",
        "optout",
        "opted out",
    }
)

# Candidate delimiters, tried on the header line; the one under which an email column appears wins.
DELIMITERS: Final = (",", ";", "\t", "|")

# Limits a value must respect to be loadable into Mailjet (the sandbox enforces the same ones).
MAX_EMAIL_LENGTH: Final = 255
MAX_NAME_LENGTH: Final = 255
MAX_PROPERTY_VALUE_LENGTH: Final = 4096
# Mailjet documents no limit on a property (contactmetadata) Name; 255, its limit on contact names, is far
# beyond any real column title, so a longer header cell means the first line is not a header.
MAX_COLUMN_NAME_LENGTH: Final = 255
# Fields above this size stop the parser itself (a runaway quote); below it, the limits above apply.
MAX_FIELD_BYTES: Final = 64 * 1024 * 1024
# csv_rejections keeps the start of a rejected row, not a 10 MB field.
MAX_RAW_ROW_CHARS: Final = 2000

# Bytes read to decide the encoding and whether the file is text at all.
SNIFF_BYTES: Final = 64 * 1024
# The staging database a file is parsed into spills to disk beyond this, so memory stays flat.
STAGING_MEMORY_LIMIT: Final = "128MB"
# Rows parsed in Python before they are handed to the staging database in one Arrow batch.
BATCH_ROWS: Final = 50_000

# An address: no spaces, quotes or brackets; one @; a domain with a dot and no empty labels. Kept
# permissive on purpose (internationalized addresses pass); Mailjet has the last word on deliverability.
EMAIL_PATTERN: Final = r"[^\s@\"(),:;<>\[\]\\]+@[^\s@\"(),:;<>\[\]\\.]+(\.[^\s@\"(),:;<>\[\]\\.]+)+"
