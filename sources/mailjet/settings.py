"""Mailjet endpoint paths, limits and defaults."""

from __future__ import annotations

from typing import Final

DEFAULT_BASE_URL: Final = "https://api.mailjet.com"
REST_PREFIX: Final = "/v3/REST"
DATA_PREFIX: Final = "/v3/DATA"
PAGE_SIZE_MAX: Final = 1000
DEFAULT_TIMEOUT_SECONDS: Final = 60.0
MAX_TIMEOUT_SECONDS: Final = 86_400.0  # a day: a request taking longer is hung

# Bulk job statuses: success, failure; anything else is still running.
JOB_DONE: Final = frozenset({"Completed"})
JOB_FAILED: Final = frozenset({"Error", "Abort"})
# Polling a job: the first wait, the longest wait (it doubles in between) and how long to poll at most.
JOB_FIRST_POLL_SECONDS: Final = 0.2
JOB_MAX_POLL_SECONDS: Final = 30.0
JOB_TIMEOUT_SECONDS: Final = 3600.0
# A job's error report (mailjet-api.md §5, §5.3): JSON for bulk subscription jobs, CSV for CSV imports.
JOB_JSON_ERRORS: Final = "/batchjob/{job_id}/JSONError/application:json/LAST"
JOB_CSV_ERRORS: Final = "/batchjob/{job_id}/CSVError/text:csv"
CSV_IMPORT_RESOURCE: Final = "csvimport"

# Defaults of the [mailjet] settings (see config.py).
DEFAULT_CONCURRENCY: Final = 4
DEFAULT_MAX_ATTEMPTS: Final = 8
DEFAULT_BACKOFF_SECONDS: Final = 0.5
DEFAULT_MAX_BACKOFF_SECONDS: Final = 30.0
DEFAULT_LAG_SECONDS: Final = 3600
# Opens, clicks and bounces re-read this far back on every run (see MailjetConfiguration).
DEFAULT_EVENT_HORIZON_DAYS: Final = 30.0
DEFAULT_WINDOW_ROWS: Final = 100_000
USER_AGENT: Final = "mailjet-elt"
SMS_PREFIX: Final = "/v4"

# /statcounters filters for one lifetime row per campaign.
CAMPAIGN_COUNTERS: Final = {
    "CounterSource": "Campaign",
    "CounterTiming": "Message",
    "CounterResolution": "Lifetime",
}
# /message leaves out the recipient, subject and CustomID unless asked.
MESSAGE_EXTRA_FIELDS: Final = {"ShowContactAlt": "true", "ShowSubject": "true", "ShowCustomID": "true"}

# The v3 REST resource each table is read from (SMS come from /v4/sms).
ENDPOINTS: Final = {
    "contacts": "contact",
    "contact_lists": "contactslist",
    "list_recipients": "listrecipient",
    "contact_properties": "contactdata",
    "contact_property_definitions": "contactmetadata",
    "campaign_drafts": "campaigndraft",
    "campaign_stats": "statcounters",
    "campaigns": "campaign",
    "messages": "message",
    "opens": "openinformation",
    "clicks": "clickstatistics",
    "bounces": "bouncestatistics",
}

# Page readers an extract runs at once: dlt pulls every selected resource round-robin, so all of them
# (the endpoints above and the SMS one) read together. Sizes the connection pool, per `concurrency`.
MAX_ACTIVE_READERS: Final = len(ENDPOINTS) + 1
