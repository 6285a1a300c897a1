"""Mailjet endpoint paths, limits and defaults."""

from __future__ import annotations

from typing import Final

DEFAULT_BASE_URL: Final = "https://api.mailjet.com"
REST_PREFIX: Final = "/v3/REST"
DATA_PREFIX: Final = "/v3/DATA"
PAGE_SIZE_MAX: Final = 1000
DEFAULT_TIMEOUT_SECONDS: Final = 60.0

# Bulk job statuses: success, failure; anything else is still running.
JOB_DONE: Final = frozenset({"Completed"})
JOB_FAILED: Final = frozenset({"Error", "Abort"})
