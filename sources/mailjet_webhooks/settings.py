"""The webhook source's constants."""

from __future__ import annotations

from typing import Final

BODY_KEPT: Final = 65_536  # characters of a rejected body kept in webhook_rejections
