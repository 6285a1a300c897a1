"""Quirks: other plausible readings of Mailjet's API where its documentation is ambiguous, each behind a
name, so that the extract is tested against every reading and not only against our own guess.

Spec syntax (flag `--quirks`, `SandboxConfig.quirks` and `PUT /_sandbox/quirks {"spec": ...}`): names
joined with commas, or `all` for every one. The default is none: the sandbox answers as
`mailjet-api.md` reads the documentation.

- `fromts-exclusive`: `FromTS` and `ToTS` exclude their own second (the reference says messages sent
  "after FromTS" and "before ToTS"; a widely used tap reads FromTS as exclusive), where the default reads
  both as inclusive.
- `sort-unknown-400`: a `Sort` on a field the reference never names as sortable (`OpenedAt`, `ClickedAt`,
  `BouncedAt`, campaign `CreatedAt`, statcounters `SourceID`) is refused with a 400.
- `sort-unknown-ignored`: such a `Sort` is ignored instead, and the rows come in the API's own order,
  newest first. It excludes `sort-unknown-400`; `all` takes the harsher, `sort-unknown-400`.
- `campaign-status-string`: a campaign's `Status` is a string (`"2"`), as the Go SDK types it, where the
  default sends the reference's integer.
- `statcounters-no-countonly`: `/statcounters` ignores `countOnly` (undocumented there) and answers a plain
  page, whose `Count`/`Total` are that page's size.
- `event-filter-send-time`: on the event logs (`openinformation`, `clickstatistics`, `bouncestatistics`)
  `FromTS`/`ToTS` filter on the message's send time (`ArrivedAt`), and `EventFromTS`/`EventToTS` on the
  event's own time, as the Node SDK's separate filters suggest; the default filters on the event's time.
- `click-id-minus-one`: every `clickstatistics` row has `"ID": -1`, as in the reference's example.
- `bounce-id-is-message-id`: a `bouncestatistics` row's `ID` is its message's ID, as in the reference's
  example (a message that bounced twice gives two rows with one ID).
- `sms-uuid-ids`: `/v4/sms` gives `MessageId` as a UUID string, where the default sends a numeric string.
- `sms-page-cap-21`: `/v4/sms` answers at most 21 rows per call, whatever `Limit` asks for (one guide's
  "maximum of 21 items per call").
- `draft-axtesting-object`: a draft's `AXTesting` is an object (as the Go and Node SDKs type it), where
  the default sends an integer.

Write quirks (what the sync sends; the extract matrix leaves them out: they change no read):
- `property-names-lowercased`: a property definition is stored with its name lower-cased (a user report:
  one created as `Name` comes back as `name`), and a write (a bulk job's `Properties`, `managecontact`,
  a `contactdata` PUT) looks names up with their exact case: a contact naming `FirstName` where the
  definition is `firstname` is refused (`Property not defined`), the harsher of the two plausible
  readings (the other drops the value silently), where the default matches names whatever their case.
- `strict-property-types`: no text is coerced to a property's datatype: an `int` takes only a JSON
  integer (not `"42"`, `"42.0"` or `42.5`), a `float` only a JSON number, a `bool` only `true`/`false`,
  a `datetime` only RFC 3339 text or Unix seconds (a number), a `str` only text; anything else refuses
  that contact. The default coerces text (`"42"` to 42, `"true"` to true, most timestamp spellings)."""

from __future__ import annotations

from sandbox.exceptions import SandboxConfigError

KNOWN: dict[str, str] = {
    "fromts-exclusive": "FromTS and ToTS exclude their own second",
    "statcounters-no-countonly": "statcounters ignores countOnly and answers a page",
    "sort-unknown-400": "a Sort on a field the reference never names is refused (400)",
    "campaign-status-string": "a campaign's Status is a string",
    "sort-unknown-ignored": "a Sort on a field the reference never names is ignored (newest first)",
    "event-filter-send-time": "FromTS/ToTS on the event logs filter on the message's send time",
    "click-id-minus-one": "every clickstatistics row has ID -1",
    "bounce-id-is-message-id": "a bouncestatistics row's ID is its message's ID",
    "sms-uuid-ids": "SMS MessageId is a UUID string",
    "sms-page-cap-21": "/v4/sms answers at most 21 rows per call",
    "draft-axtesting-object": "a draft's AXTesting is an object",
    "property-names-lowercased": "property definitions are stored lower-cased; writes match names exactly",
    "strict-property-types": "property values are not coerced from text to their datatype",
}
# The quirks of what the sync writes (the extract's matrix reads under the others).
WRITE_QUIRKS = frozenset({"property-names-lowercased", "strict-property-types"})
# Pairs that exclude each other: `all` takes the first (the harsher).
EXCLUSIVE = (("sort-unknown-400", "sort-unknown-ignored"),)
# Sort fields the reference never names, per resource (refused under `sort-unknown-400`).
UNDOCUMENTED_SORTS: dict[str, frozenset[str]] = {
    "openinformation": frozenset({"OpenedAt"}),
    "clickstatistics": frozenset({"ClickedAt"}),
    "bouncestatistics": frozenset({"BouncedAt"}),
    "campaign": frozenset({"CreatedAt"}),
    "statcounters": frozenset({"SourceID"}),
}


def parse_quirks(spec: str | None) -> frozenset[str]:
    """The quirks a spec names; SandboxConfigError naming an unknown one."""
    names = {part.strip().lower() for part in (spec or "").split(",") if part.strip()}
    if "all" in names:
        return frozenset(KNOWN) - {gentler for _, gentler in EXCLUSIVE}
    unknown = sorted(names - set(KNOWN))
    if unknown:
        raise SandboxConfigError(
            f"--quirks {', '.join(unknown)}: no such quirk; known: {', '.join(KNOWN)} (or all)"
        )
    for harsher, gentler in EXCLUSIVE:
        if {harsher, gentler} <= names:
            raise SandboxConfigError(f"--quirks {harsher} and {gentler} exclude each other: choose one")
    return frozenset(names)
