"""The webhook source's constants."""

from __future__ import annotations

from typing import Final

BODY_KEPT: Final = 65_536  # characters of a rejected body kept in webhook_rejections
# A delivery up to this size holding events only is parsed at once (at most some 9 MiB of Python objects,
# however tiny its items); any other is read one item at a time.
WHOLE_BODY_BYTES: Final = 262_144
