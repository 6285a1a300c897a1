"""The v3 REST resources: contacts, lists, memberships, properties, campaigns, drafts, messages, event
logs, statistics, webhook registrations, jobs. One handler per resource; `route` dispatches."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from sandbox import settings
from sandbox.clock import format_ts
from sandbox.exceptions import ApiError, BadRequest, MethodNotAllowed, NotFound, NotModified
from sandbox.http_types import Reply, Request, envelope
from sandbox.jobs import check_action, check_emails, json_error_report
from sandbox.lag import lagged, lagged_recipient, subscriber_count
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
    projector,
)
from sandbox.query import bool_param, int_param, listing, str_param, window
from sandbox.store import Store, is_valid_email

Handler = Callable[[Store, Request], Reply]

BOOL = "bool"
INT = "int"
STR = "str"
NUM = "number"
ANY = "any"


def read_body(req: Request, allowed: dict[str, str], type_name: str) -> dict[str, Any]:
    """The JSON object body, keys matched case-insensitively to `allowed`, values type-checked.
    Unknown keys and wrong types are 400s worded like Mailjet's `Invalid json input` errors."""
    body = req.json_object()
    canon = {k.lower(): k for k in allowed}
    out: dict[str, Any] = {}
    for key, value in body.items():
        name = canon.get(key.lower())
        if name is None:
            raise BadRequest(f'Invalid json input: object ""->"{type_name}" has no property "{key}"')
        out[name] = coerce(value, allowed[name], name, type_name)
    return out


def coerce(value: Any, kind: str, name: str, type_name: str) -> Any:
    """A JSON value checked (and, for numeric/boolean strings, converted) to a field's type."""
    if value is None or kind == ANY:
        return value
    wrong = BadRequest(f'Invalid json input: property "{name}" of "{type_name}" must be of type {kind}')
    if kind == BOOL:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise wrong
    if kind == INT:
        if isinstance(value, bool):
            raise wrong
        if isinstance(value, int) and -(2**63) <= value < 2**63:
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 20:
            return int(value)
        raise wrong
    if kind == NUM:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        raise wrong
    if kind == STR:
        if isinstance(value, str):
            return value
        raise wrong
    return value


def one(row: Any, fields: tuple[str, ...], status: int = 200) -> Reply:
    """A single row in the envelope."""
    return envelope([projector(fields)(row)], status=status)


def int_key(value: str) -> int:
    """A numeric path key; a non-numeric one cannot match, so 404."""
    if not value.isdigit() or len(value) > 19:
        raise NotFound()
    return int(value)


# ------------------------------------------------------------------ contact


CONTACT_POST = {"Email": STR, "Name": STR, "IsExcludedFromCampaigns": BOOL}
CONTACT_PUT = {"Name": STR, "IsExcludedFromCampaigns": BOOL}


def contact(store: Store, req: Request) -> Reply:
    """`/contact`, its actions and `/contact/managemanycontacts`."""
    parts, method = req.parts, req.method
    if len(parts) >= 2 and parts[1].lower() == "managemanycontacts":
        return contact_bulk(store, req)
    if len(parts) == 1:
        if method == "GET":
            return contact_list(store, req)
        if method == "POST":
            body = read_body(req, CONTACT_POST, "TContact")
            if "Email" not in body:
                raise BadRequest('Missing mandatory property "Email"')
            row = store.create_contact(
                body["Email"], body.get("Name") or "", bool(body.get("IsExcludedFromCampaigns"))
            )
            return one(row, Contact.FIELDS, 201)
        raise MethodNotAllowed(method, "contact")
    row = store.find_contact(parts[1])
    if len(parts) == 2:
        if method == "GET":
            return one(row, Contact.FIELDS)
        if method == "PUT":
            body = read_body(req, CONTACT_PUT, "TContact")
            changed = False
            if "Name" in body and body["Name"] is not None and body["Name"] != row.Name:
                if len(body["Name"]) > settings.MAX_NAME_LENGTH:
                    raise BadRequest('Invalid value for property "Name": too long')
                row.Name = body["Name"]
                store.touch_contact(row)
                changed = True
            if body.get("IsExcludedFromCampaigns") is not None:
                changed = store.set_exclusion(row, body["IsExcludedFromCampaigns"]) or changed
            if not changed:
                raise NotModified()
            return one(row, Contact.FIELDS)
        raise MethodNotAllowed(method, "contact")
    action = parts[2].lower()
    if action == "getcontactslists" and method == "GET":
        _, shown, _ = store.lag.shown(store)  # quirk listing-lag
        recs = lagged(list(store.recipients_by_contact.get(row.ID, [])), shown, row.ID)
        recs.sort(key=lambda r: r.ListID)
        return envelope(
            [
                {
                    "IsActive": r.IsActive,
                    "IsUnsub": r.IsUnsubscribed,
                    "ListID": r.ListID,
                    "SubscribedAt": r.SubscribedAt,
                }
                for r in recs
            ]
        )
    if action == "managecontactslists" and method == "POST":
        return manage_contacts_lists(store, req, row)
    if action in ("getcontactslists", "managecontactslists"):
        raise MethodNotAllowed(method, f"contact/{action}")
    raise BadRequest(f'Unknown action: "{parts[2]}"', info="Bad Request")


def contact_list(store: Store, req: Request) -> Reply:
    """GET /contact with ContactsList, Campaign, IsExcludedFromCampaigns filters."""
    list_id = int_param(req, "ContactsList")
    campaign_id = int_param(req, "Campaign")
    excluded = bool_param(req, "IsExcludedFromCampaigns")
    token, shown, _ = store.lag.shown(store)  # quirk listing-lag: memberships as before a recent job

    def build() -> Iterable[Contact]:
        rows: Iterable[Contact]
        if list_id is not None:
            members = lagged(list(store.recipients_by_list.get(list_id, {}).values()), shown, None, list_id)
            ids = sorted(r.ContactID for r in members)
            rows = [store.contacts.rows[i] for i in ids if i in store.contacts.rows]
        elif campaign_id is not None:
            ids = sorted({m.ContactID for m in store.messages if m.CampaignID == campaign_id})
            rows = [store.contacts.rows[i] for i in ids if i in store.contacts.rows]
        else:
            rows = store.contacts.ordered()
        if excluded is not None:
            rows = [c for c in rows if c.IsExcludedFromCampaigns == excluded]
        return rows

    return listing(
        store, req, "contact", Contact.FIELDS, build, (store.contacts, store.recipients), key_extra=token
    )


def manage_contacts_lists(store: Store, req: Request, row: Contact) -> Reply:
    """POST /contact/{id}/managecontactslists: several lists, one action each, applied at once."""
    body = req.json_object()
    items = next((v for k, v in body.items() if k.lower() == "contactslists"), None)
    if not isinstance(items, list):
        raise BadRequest('Invalid json input: "ContactsLists" must be an array')
    errors: list[dict[str, Any]] = []
    resolved: list[tuple[ContactsList, str, dict[str, Any]]] = []
    for item in items:
        if not isinstance(item, dict):
            errors.append({"ListID": "", "Action": "", "Error": "listID missing or not valid"})
            continue
        low = {k.lower(): v for k, v in item.items()}
        key = low.get("listid", low.get("listalt"))
        target = store.lookup_list(key) if isinstance(key, int | str) and not isinstance(key, bool) else None
        action = low.get("action")
        if target is None:
            errors.append({"ListID": str(key), "Action": str(action), "Error": "listID missing or not valid"})
        elif not isinstance(action, str) or action.lower() not in settings.ACTIONS:
            errors.append({"ListID": str(key), "Action": str(action), "Error": "action missing or not valid"})
        else:
            resolved.append((target, action.lower(), item))
    if errors:
        raise BadRequest({"ContactsLists": errors})
    for target, action, _ in resolved:
        store.apply_action(row, target, action)
    return envelope(
        [{"ContactsLists": [{"Action": action, "ListID": target.ID} for target, action, _ in resolved]}],
        status=201,
    )


def _bulk_contacts(body: dict[str, Any]) -> list[dict[str, Any]]:
    raw = next((v for k, v in body.items() if k.lower() == "contacts"), None)
    if not isinstance(raw, list) or not raw:
        raise BadRequest('Invalid json input: "Contacts" must be a non-empty array')
    out = []
    for item in raw:
        if not isinstance(item, dict):
            raise BadRequest('Invalid json input: each item of "Contacts" must be an object')
        low = {k.lower(): v for k, v in item.items()}
        allowed = {"email", "name", "properties", "isexcludedfromcampaigns"}
        unknown = set(low) - allowed
        if unknown:
            raise BadRequest(
                f'Invalid json input: object ""->"TContact" has no property "{sorted(unknown)[0]}"'
            )
        if "email" not in low:
            raise BadRequest('Missing mandatory property "Email" in "Contacts"')
        out.append(
            {
                "Email": low.get("email"),
                "Name": low.get("name"),
                "Properties": low.get("properties"),
                # "true"/"false" strings are booleans here as in every other body (a wrong type is a 400)
                "IsExcludedFromCampaigns": coerce(
                    low.get("isexcludedfromcampaigns"), BOOL, "IsExcludedFromCampaigns", "TContact"
                ),
            }
        )
    return out


def new_job(store: Store, kind: str) -> Job:
    """A job that will end after the configured duration (failing when a fault says so)."""
    now = store.clock.now()
    wall = store.wallclock()
    faults = getattr(store, "faults", None)
    will_fail = bool(faults and faults.job_fails())
    return Job(
        ID=store.new_id("job", start=35001),
        kind=kind,
        RequestAt=format_ts(now),
        JobStart=format_ts(now),
        created=wall,
        due=wall + store.job_seconds,
        will_fail=will_fail,
    )


def contact_bulk(store: Store, req: Request) -> Reply:
    """POST /contact/managemanycontacts and GET /contact/managemanycontacts/{JobID}."""
    if len(req.parts) >= 3:
        if req.method != "GET":
            raise MethodNotAllowed(req.method, "contact/managemanycontacts")
        job = store.jobs.get(int_key(req.parts[2]))
        if job is None or job.kind != "contact":
            raise NotFound()
        return job_reply(store, job)
    if req.method != "POST":
        raise MethodNotAllowed(req.method, "contact/managemanycontacts")
    body = req.json_object()
    contacts = _bulk_contacts(body)
    check_emails(store, contacts)
    lists_raw: Any = next((v for k, v in body.items() if k.lower() == "contactslists"), [])
    if not isinstance(lists_raw, list):
        raise BadRequest('Invalid json input: "ContactsLists" must be an array')
    lists: list[dict[str, Any]] = []
    for item in lists_raw:
        if not isinstance(item, dict):
            raise BadRequest('Invalid json input: each item of "ContactsLists" must be an object')
        low = {k.lower(): v for k, v in item.items()}
        key = low.get("listid", low.get("listalt"))
        target = store.lookup_list(key) if isinstance(key, int | str) and not isinstance(key, bool) else None
        if target is None:
            raise BadRequest(
                {"ContactsLists": [{"ListID": str(key), "Error": "listID missing or not valid"}]}
            )
        lists.append({"ListID": target.ID, "Action": check_action(low.get("action"))})
    job = new_job(store, "contact")
    job.ContactsLists = lists
    job.contacts = contacts
    store.start_job(job)
    return envelope([{"JobID": job.ID}], status=201)


def job_reply(store: Store, job: Job) -> Reply:
    """A bulk job's status object."""
    status = store.job_status(job, store.wallclock())
    row = {
        "ContactsLists": job.ContactsLists
        if job.kind == "contact"
        else [{"ListID": job.list_id, "Action": job.Method}],
        "Count": job.Count,
        "Error": job.Error,
        "ErrorFile": job.ErrorFile,
        "JobEnd": job.JobEnd,
        "JobStart": job.JobStart,
        "Status": status,
    }
    return envelope([row])


# ------------------------------------------------------------------ contactslist

LIST_POST = {"Name": STR, "Address": STR, "IsDeleted": BOOL}
LIST_ROW = projector(ContactsList.FIELDS)


def contactslist(store: Store, req: Request) -> Reply:
    """`/contactslist` and its actions."""
    parts, method = req.parts, req.method
    if len(parts) == 1:
        if method == "GET":
            name = str_param(req, "Name")
            address = str_param(req, "Address")
            deleted = bool_param(req, "IsDeleted")
            exclude = int_param(req, "ExcludeID")

            def build() -> list[ContactsList]:
                return [
                    row
                    for row in store.lists.ordered()
                    if (name is None or row.Name.lower() == name.lower())
                    and (address is None or row.Address == address)
                    and (deleted is None or row.IsDeleted == deleted)
                    and (exclude is None or exclude != row.ID)
                ]

            token, _, counts = store.lag.shown(store)  # quirk listing-lag: counts as before a recent job
            return listing(
                store,
                req,
                "contactslist",
                ContactsList.FIELDS,
                build,
                (store.lists,),
                project=lambda r: {**LIST_ROW(r), "SubscriberCount": subscriber_count(r, counts)},
                key_extra=token,
            )
        if method == "POST":
            body = read_body(req, LIST_POST, "TContactsList")
            if not body.get("Name"):
                raise BadRequest('Missing mandatory property "Name"')
            return one(store.create_list(body["Name"]), ContactsList.FIELDS, 201)
        raise MethodNotAllowed(method, "contactslist")
    row = store.find_list(int_key(parts[1]))
    if len(parts) == 2:
        if method == "GET":
            _, _, counts = store.lag.shown(store)
            return envelope([{**LIST_ROW(row), "SubscriberCount": subscriber_count(row, counts)}])
        if method == "PUT":
            body = read_body(req, LIST_POST, "TContactsList")
            changed = False
            if body.get("Name") is not None and body["Name"] != row.Name:
                store.rename_list(row, body["Name"])
                changed = True
            if body.get("IsDeleted") is not None and body["IsDeleted"] != row.IsDeleted:
                row.IsDeleted = body["IsDeleted"]
                store.lists.touch()
                changed = True
            if not changed:
                raise NotModified()
            return one(row, ContactsList.FIELDS)
        if method == "DELETE":
            row.IsDeleted = True
            store.lists.touch()
            return Reply(status=204)
        raise MethodNotAllowed(method, "contactslist")
    action = parts[2].lower()
    if action == "managecontact":
        if method != "POST":
            raise MethodNotAllowed(method, "contactslist/managecontact")
        return manage_contact(store, req, row)
    if action == "managemanycontacts":
        if len(parts) >= 4:
            if method != "GET":
                raise MethodNotAllowed(method, "contactslist/managemanycontacts")
            job = store.jobs.get(int_key(parts[3]))
            if job is None or job.kind != "list" or job.list_id != row.ID:
                raise NotFound()
            return job_reply(store, job)
        if method != "POST":
            raise MethodNotAllowed(method, "contactslist/managemanycontacts")
        body = req.json_object()
        action_value = check_action(next((v for k, v in body.items() if k.lower() == "action"), None))
        contacts = _bulk_contacts(body)
        check_emails(store, contacts)
        job = new_job(store, "list")
        job.list_id = row.ID
        job.Method = action_value
        job.contacts = contacts
        store.start_job(job)
        return envelope([{"JobID": job.ID}], status=201)
    raise BadRequest(f'Unknown action: "{parts[2]}"', info="Bad Request")


MANAGE_CONTACT = {"Email": STR, "Name": STR, "Action": STR, "Properties": ANY}


def manage_contact(store: Store, req: Request, target: ContactsList) -> Reply:
    """POST /contactslist/{id}/managecontact: one contact, synchronously."""
    body = read_body(req, MANAGE_CONTACT, "TManageContact")
    action = check_action(body.get("Action"))
    email = body.get("Email")
    if not is_valid_email(email):
        raise BadRequest(f'Invalid value for property "Email": "{email}"')
    try:
        values = store.validate_properties(body.get("Properties"))
    except ValueError as exc:
        raise BadRequest("Object properties invalid", info={"Properties": exc.args[0]}) from exc
    row = store.ensure_contact(str(email), body.get("Name") or "")
    store.set_properties(row, values)
    store.apply_action(row, target, action)
    data: dict[str, Any] = {"ContactID": row.ID, "Email": row.Email, "Action": action, "Name": row.Name}
    data["Properties"] = body.get("Properties") or {}
    return envelope([data], status=201)


# ------------------------------------------------------------------ listrecipient

RECIPIENT_POST = {
    "ContactID": INT,
    "ContactAlt": STR,
    "ListID": INT,
    "ListAlt": STR,
    "IsUnsubscribed": BOOL,
    "IsActive": BOOL,
}


def listrecipient(store: Store, req: Request) -> Reply:
    """`/listrecipient`: memberships, the source of truth for list-level unsubscription."""
    parts, method = req.parts, req.method
    if len(parts) == 1:
        if method == "GET":
            return recipient_list(store, req)
        if method == "POST":
            body = read_body(req, RECIPIENT_POST, "TListRecipient")
            ckey = body.get("ContactID", body.get("ContactAlt"))
            lkey = body.get("ListID", body.get("ListAlt"))
            if ckey is None or lkey is None:
                raise BadRequest('Missing mandatory property "ContactID" or "ListID"')
            who = store.lookup_contact(ckey)
            target = store.lookup_list(lkey)
            if who is None:
                raise BadRequest(f'Invalid value for property "ContactID": "{ckey}"')
            if target is None:
                raise BadRequest(f'Invalid value for property "ListID": "{lkey}"')
            if store.recipient(who.ID, target.ID) is not None:
                raise BadRequest(
                    f'MJ18 A ListRecipient resource with value "{who.ID},{target.ID}" for '
                    "ContactID,ListID already exists."
                )
            created = store.add_recipient(who, target, unsubscribed=bool(body.get("IsUnsubscribed")))
            return one(created, ListRecipient.FIELDS, 201)
        raise MethodNotAllowed(method, "listrecipient")
    recipient_id = int_key(parts[1])
    rec = store.recipients.get(recipient_id)
    if method == "GET":
        _, shown, _ = store.lag.shown(store)  # quirk listing-lag
        rec = lagged_recipient(rec, recipient_id, shown)
    if rec is None:
        raise NotFound()
    if method == "GET":
        return one(rec, ListRecipient.FIELDS)
    if method == "PUT":
        body = read_body(req, {"IsUnsubscribed": BOOL, "IsActive": BOOL}, "TListRecipient")
        changed = False
        if body.get("IsUnsubscribed") is not None:
            changed = store.set_unsubscribed(rec, body["IsUnsubscribed"])
        if body.get("IsActive") is not None and body["IsActive"] != rec.IsActive:
            rec.IsActive = body["IsActive"]
            store.recipients.touch()
            changed = True
        if not changed:
            raise NotModified()
        return one(rec, ListRecipient.FIELDS)
    if method == "DELETE":
        store.remove_recipient(rec)
        return Reply(status=204)
    raise MethodNotAllowed(method, "listrecipient")


def recipient_list(store: Store, req: Request) -> Reply:
    """GET /listrecipient with its documented filters."""
    list_id = int_param(req, "ContactsList")
    contact_id = int_param(req, "Contact")
    email = str_param(req, "ContactEmail")
    list_name = str_param(req, "ListName")
    unsub = bool_param(req, "Unsub")
    active = bool_param(req, "Active")
    ignore_deleted = bool_param(req, "IgnoreDeleted")
    excluded = bool_param(req, "IsExcludedFromCampaigns")
    if email is not None:
        who = store.lookup_contact(email) if "@" in email else None
        contact_id = who.ID if who is not None else -1
    if list_name is not None:
        named = store.lists_by_name.get(list_name.lower())
        list_id = named.ID if named is not None and (list_id in (None, named.ID)) else -1
    token, shown, _ = store.lag.shown(store)  # quirk listing-lag: memberships as before a recent job

    def build() -> list[ListRecipient]:
        rows: list[ListRecipient]
        if contact_id is not None:
            rows = sorted(store.recipients_by_contact.get(contact_id, []), key=lambda r: r.ID)
            if list_id is not None:
                rows = [r for r in rows if r.ListID == list_id]
        elif list_id is not None:
            rows = list(store.recipients_by_list.get(list_id, {}).values())
        else:
            rows = store.recipients.ordered()
        rows = lagged(rows, shown, contact_id, list_id)
        if unsub is not None:
            rows = [r for r in rows if r.IsUnsubscribed == unsub]
        if active is not None:
            rows = [r for r in rows if r.IsActive == active]
        if ignore_deleted:
            rows = [r for r in rows if not store.lists.rows[r.ListID].IsDeleted]
        if excluded is not None:
            rows = [r for r in rows if store.contacts.rows[r.ContactID].IsExcludedFromCampaigns == excluded]
        return rows

    return listing(
        store,
        req,
        "listrecipient",
        ListRecipient.FIELDS,
        build,
        (store.recipients, store.contacts, store.lists),
        key_extra=token,
    )


# ------------------------------------------------------------------ properties

METADATA_BODY = {"Name": STR, "Datatype": STR, "NameSpace": STR}


def contactmetadata(store: Store, req: Request) -> Reply:
    """`/contactmetadata`: property definitions."""
    parts, method = req.parts, req.method
    if len(parts) == 1:
        if method == "GET":
            datatype = str_param(req, "Datatype")
            namespace = str_param(req, "NameSpace")

            def build() -> list[ContactMetadata]:
                return [
                    m
                    for m in store.metadata.ordered()
                    if (datatype is None or m.Datatype == datatype)
                    and (namespace is None or m.NameSpace == namespace)
                ]

            return listing(store, req, "contactmetadata", ContactMetadata.FIELDS, build, (store.metadata,))
        if method == "POST":
            body = read_body(req, METADATA_BODY, "TContactMetaData")
            if not body.get("Name") or not body.get("Datatype"):
                raise BadRequest('Missing mandatory property "Name" or "Datatype"')
            made = store.create_metadata(body["Name"], body["Datatype"], body.get("NameSpace") or "static")
            return one(made, ContactMetadata.FIELDS, 201)
        raise MethodNotAllowed(method, "contactmetadata")
    key = parts[1]
    meta = store.metadata.get(int(key)) if key.isdigit() and len(key) < 19 else store.metadata_by_name(key)
    if meta is None:
        raise NotFound()
    if method == "GET":
        return one(meta, ContactMetadata.FIELDS)
    if method == "PUT":
        body = read_body(req, METADATA_BODY, "TContactMetaData")
        changed = False
        if body.get("Datatype") is not None and body["Datatype"] != meta.Datatype:
            if body["Datatype"] not in settings.DATATYPES:
                raise BadRequest(f'Invalid value for property "Datatype": "{body["Datatype"]}"')
            meta.Datatype = body["Datatype"]
            changed = True
        if body.get("Name") is not None and body["Name"] != meta.Name:
            if store.metadata_by_name(body["Name"]) is not None:
                raise BadRequest(
                    f'MJ18 A ContactMetadata resource with value "{body["Name"]}" for Name already exists.'
                )
            slot = store.property_slots.pop(meta.Name.lower())
            meta.Name = body["Name"]
            store.property_slots[meta.Name.lower()] = slot
            changed = True
        if not changed:
            raise NotModified()
        store.metadata.touch()
        store.contacts.touch()
        return one(meta, ContactMetadata.FIELDS)
    if method == "DELETE":
        store.delete_metadata(meta)
        return Reply(status=204)
    raise MethodNotAllowed(method, "contactmetadata")


def contactdata(store: Store, req: Request) -> Reply:
    """`/contactdata`: a contact's static property values (ID = contact ID)."""
    parts, method = req.parts, req.method

    def render(c: Contact) -> dict[str, Any]:
        return {"ContactID": c.ID, "Data": store.contact_properties(c), "ID": c.ID}

    if len(parts) == 1:
        if method != "GET":
            raise MethodNotAllowed(method, "contactdata")
        list_id = int_param(req, "ContactsList")
        email = str_param(req, "ContactEmail")

        def build() -> list[Contact]:
            if email is not None:
                found = store.lookup_contact(email) if "@" in email else None
                return [found] if found is not None else []
            if list_id is not None:
                ids = sorted(r.ContactID for r in store.recipients_by_list.get(list_id, {}).values())
                return [store.contacts.rows[i] for i in ids]
            return store.contacts.ordered()

        return listing(
            store,
            req,
            "contactdata",
            ("ContactID", "ID"),
            build,
            (store.contacts, store.recipients, store.metadata),
            project=render,
        )
    row = store.find_contact(parts[1])
    if method == "GET":
        return envelope([render(row)])
    if method == "PUT":
        body = req.json_object()
        data = next((v for k, v in body.items() if k.lower() == "data"), None)
        if not isinstance(data, list):
            raise BadRequest('Invalid json input: "Data" must be an array of {"Name", "Value"}')
        values: dict[str, Any] = {}
        for item in data:
            if not isinstance(item, dict):
                raise BadRequest('Invalid json input: "Data" items must be objects')
            low = {k.lower(): v for k, v in item.items()}
            name = low.get("name")
            if not isinstance(name, str) or store.metadata_by_name(name) is None:
                raise BadRequest(f'Invalid key name: "{name}"')
            values[name] = low.get("value")
        try:
            slots = store.validate_properties(values)
        except ValueError as exc:
            raise BadRequest("Object properties invalid", info={"Properties": exc.args[0]}) from exc
        store.set_properties(row, slots)
        return envelope([render(row)])
    raise MethodNotAllowed(method, "contactdata")


# ------------------------------------------------------------------ campaigns


def campaign(store: Store, req: Request) -> Reply:
    """`/campaign`: sent campaigns; without FromTS only today's."""
    parts, method = req.parts, req.method
    if len(parts) == 1:
        if method != "GET":
            raise MethodNotAllowed(method, "campaign")
        start, end = window(store, req)
        list_id = int_param(req, "ContactsList") or int_param(req, "ContactsListID")
        custom = str_param(req, "CustomCampaign")
        from_type = int_param(req, "FromType")
        deleted = bool_param(req, "IsDeleted")
        starred = bool_param(req, "IsStarred")
        campaign_id = int_param(req, "CampaignID")

        def build() -> list[Campaign]:
            return [
                c
                for c in store.campaigns.ordered()
                if start <= c.CreatedAt <= end
                and (list_id is None or c.ListID == list_id)
                and (custom is None or c.CustomValue == custom)
                and (from_type is None or c.CampaignType == from_type)
                and (deleted is None or c.IsDeleted == deleted)
                and (starred is None or c.IsStarred == starred)
                and (campaign_id is None or campaign_id == c.ID)
            ]

        return listing(
            store, req, "campaign", Campaign.FIELDS, build, (store.campaigns,), key_extra=(start, end)
        )
    key = parts[1]
    found: Campaign | None
    if key.lower().startswith("mj.nl="):
        nl = key[6:]
        found = next((c for c in store.campaigns if str(c.NewsLetterID) == nl), None)
    else:
        found = store.campaigns.get(int_key(key))
    if found is None:
        raise NotFound()
    if method == "GET":
        return one(found, Campaign.FIELDS)
    if method == "PUT":
        body = read_body(req, {"IsDeleted": BOOL, "IsStarred": BOOL}, "TCampaign")
        changed = False
        for name, value in body.items():
            if value is not None and getattr(found, name) != value:
                setattr(found, name, value)
                changed = True
        if not changed:
            raise NotModified()
        store.campaigns.touch()
        return one(found, Campaign.FIELDS)
    raise MethodNotAllowed(method, "campaign")


DRAFT_BODY = {
    "Title": STR,
    "Subject": STR,
    "Locale": STR,
    "Sender": STR,
    "SenderEmail": STR,
    "SenderName": STR,
    "ReplyEmail": STR,
    "ContactsListID": INT,
    "SegmentationID": INT,
    "TemplateID": INT,
    "EditMode": STR,
    "IsStarred": BOOL,
    "IsTextPartIncluded": BOOL,
    "Url": STR,
    "Preset": STR,
}


def campaigndraft(store: Store, req: Request) -> Reply:
    """`/campaigndraft` and its detailcontent / send / test / schedule / status actions."""
    parts, method = req.parts, req.method
    if len(parts) == 1:
        if method == "GET":
            list_id = int_param(req, "ContactsList")
            status = int_param(req, "Status")
            campaign_id = int_param(req, "Campaign")
            starred = bool_param(req, "IsStarred")

            def build() -> list[CampaignDraft]:
                return [
                    d
                    for d in store.drafts.ordered()
                    if (list_id is None or d.ContactsListID == list_id)
                    and (status is None or d.Status == status)
                    and (campaign_id is None or d.CampaignID == campaign_id)
                    and (starred is None or d.IsStarred == starred)
                ]

            return listing(store, req, "campaigndraft", CampaignDraft.FIELDS, build, (store.drafts,))
        if method == "POST":
            body = read_body(req, DRAFT_BODY, "TCampaignDraft")
            missing = [
                k for k in ("Locale", "Sender", "SenderEmail", "Subject", "ContactsListID") if not body.get(k)
            ]
            if missing:
                raise BadRequest(f'Missing mandatory property "{missing[0]}"')
            store.find_list(body["ContactsListID"])
            now = store.clock.now_ts()
            new_draft = CampaignDraft(
                ID=store.new_id("draft", start=5001),
                Title=body.get("Title") or "",
                Subject=body["Subject"],
                Locale=body["Locale"],
                Sender=body["Sender"],
                SenderEmail=body["SenderEmail"],
                SenderName=body.get("SenderName") or body["Sender"],
                ContactsListID=body["ContactsListID"],
                CreatedAt=now,
                ModifiedAt=now,
            )
            store.drafts.add(new_draft.ID, new_draft)
            return one(new_draft, CampaignDraft.FIELDS, 201)
        raise MethodNotAllowed(method, "campaigndraft")
    draft = store.drafts.get(int_key(parts[1]))
    if draft is None:
        raise NotFound()
    if len(parts) == 2:
        if method == "GET":
            return one(draft, CampaignDraft.FIELDS)
        if method == "PUT":
            body = read_body(req, DRAFT_BODY, "TCampaignDraft")
            changed = False
            for name, value in body.items():
                if value is not None and getattr(draft, name) != value:
                    setattr(draft, name, value)
                    changed = True
            if not changed:
                raise NotModified()
            draft.ModifiedAt = store.clock.now_ts()
            store.drafts.touch()
            return one(draft, CampaignDraft.FIELDS)
        raise MethodNotAllowed(method, "campaigndraft")
    action = parts[2].lower()
    if action == "detailcontent":
        if method == "GET":
            return envelope(
                [{"Headers": "", "Html-part": draft.html, "MJMLContent": "", "Text-part": draft.text}]
            )
        if method in ("POST", "PUT"):
            body = req.json_object()
            low = {k.lower(): v for k, v in body.items()}
            html, text = low.get("html-part"), low.get("text-part")
            if (html is not None and not isinstance(html, str)) or (
                text is not None and not isinstance(text, str)
            ):
                raise BadRequest('Invalid json input: "Html-part" and "Text-part" must be strings')
            if method == "POST":
                draft.html, draft.text = html or "", text or ""
            else:
                draft.html = draft.html if html is None else html
                draft.text = draft.text if text is None else text
            draft.ModifiedAt = store.clock.now_ts()
            store.drafts.touch()
            return envelope(
                [{"Headers": "", "Html-part": draft.html, "MJMLContent": "", "Text-part": draft.text}],
                status=201,
            )
        raise MethodNotAllowed(method, "campaigndraft/detailcontent")
    if action == "status" and method == "GET":
        names = {-2: "Deleted", -1: "Archived", 0: "Draft", 1: "Programmed", 2: "Sent", 3: "AXTested"}
        return envelope([{"Status": names.get(draft.Status, "Draft")}])
    if action == "test" and method == "POST":
        return envelope([{"Status": "Draft"}], status=201)
    if action in ("send", "schedule") and method in ("POST", "PUT"):
        send_draft(store, draft)
        return envelope([{"Status": "Programmed" if action == "schedule" else "Sent"}], status=201)
    raise BadRequest(f'Unknown action: "{parts[2]}"', info="Bad Request")


def send_draft(store: Store, draft: CampaignDraft) -> Campaign:
    """Send a draft now: a campaign plus one message per active, subscribed, non-excluded member."""
    if draft.Status not in (0, 1):
        raise BadRequest("Campaign draft is not in Draft or Programmed status")
    if not (draft.html or draft.text):
        raise BadRequest("Campaign draft has no HTML or text part")
    if not is_valid_email(draft.SenderEmail) or not draft.Sender or not draft.Subject:
        raise BadRequest("Campaign draft needs a valid SenderEmail, a Sender and a Subject")
    members = [
        r
        for r in store.recipients_by_list.get(draft.ContactsListID, {}).values()
        if r.IsActive
        and not r.IsUnsubscribed
        and not store.contacts.rows[r.ContactID].IsExcludedFromCampaigns
    ]
    if not members:
        raise BadRequest("The contact list has no active subscriber")
    now = store.clock.now()
    stamp = format_ts(now)
    row = Campaign(
        ID=store.new_id("campaign", start=7001),
        CampaignType=2,
        CreatedAt=stamp,
        CustomValue=f"mj.nl={draft.ID}",
        FirstMessageID=0,
        FromEmail=draft.SenderEmail,
        FromID=1,
        FromName=draft.SenderName,
        ListID=draft.ContactsListID,
        NewsLetterID=draft.ID,
        SendStartAt=stamp,
        SendEndAt=stamp,
        Subject=draft.Subject,
    )
    store.campaigns.add(row.ID, row)
    for rec in members:
        who = store.contacts.rows[rec.ContactID]
        message = store.send_message(who.Email, who.Name, draft.Subject, row.ID, now)
        row.FirstMessageID = row.FirstMessageID or message.ID
    draft.Status = 2
    draft.CampaignID = row.ID
    draft.DeliveredAt = stamp
    draft.Used = True
    store.drafts.touch()
    return row


# ------------------------------------------------------------------ messages and event logs

MESSAGE_STATUS_BY_CODE = settings.MESSAGE_STATUS_CODES


def message(store: Store, req: Request) -> Reply:
    """`/message`: one row per recipient message; without FromTS only today's."""
    parts, method = req.parts, req.method
    if method != "GET":
        raise MethodNotAllowed(method, "message")
    fields = list(Message.FIELDS)
    for flag, name in (
        ("ShowContactAlt", "ContactAlt"),
        ("ShowSubject", "Subject"),
        ("ShowCustomID", "CustomID"),
    ):
        if bool_param(req, flag):
            fields.append(name)
    ordered = tuple(sorted(fields, key=str.lower))
    if len(parts) >= 2:
        row = store.messages.get(int_key(parts[1]))
        if row is None:
            raise NotFound()
        return one(row, ordered)
    start, end = window(store, req)
    campaign_id = int_param(req, "Campaign")
    contact_id = int_param(req, "Contact")
    custom_id = str_param(req, "CustomID")
    statuses = _status_filter(req)

    def build() -> list[Message]:
        return [
            m
            for m in store.messages.ordered()
            if start <= m.ArrivedAt <= end
            and (campaign_id is None or m.CampaignID == campaign_id)
            and (contact_id is None or m.ContactID == contact_id)
            and (custom_id is None or m.CustomID == custom_id)
            and (statuses is None or m.Status in statuses)
        ]

    return listing(store, req, "message", ordered, build, (store.messages,), key_extra=(start, end))


def _status_filter(req: Request) -> set[str] | None:
    raw = str_param(req, "MessageStatus")
    if raw is None:
        return None
    out = set()
    for code in raw.split(","):
        text = code.strip()
        if not text.isdigit() or int(text) not in MESSAGE_STATUS_BY_CODE:
            raise BadRequest(f'Invalid value for filter "MessageStatus": "{raw}"')
        name = MESSAGE_STATUS_BY_CODE[int(text)]
        out.add(name)
        if name == "bounce":
            out.update({"hardbounced", "softbounced"})
    return out


def event_log(resource: str, model: Any, time_field: str, table: str) -> Handler:
    """A time-windowed event log resource (openinformation, clickstatistics, bouncestatistics)."""

    def handler(store: Store, req: Request) -> Reply:
        if req.method != "GET":
            raise MethodNotAllowed(req.method, resource)
        rows_table = getattr(store, table)
        if len(req.parts) >= 2 and "ID" in model.FIELDS:
            found = rows_table.get(int_key(req.parts[1]))
            if found is None:
                raise NotFound()
            return one(found, model.FIELDS)
        by_send_time = "event-filter-send-time" in store.quirks  # a quirk: FromTS/ToTS on the send time
        everything = ("", "9999")
        if by_send_time:
            # FromTS/ToTS (or neither: today) on the send time; EventFromTS/EventToTS on the event's.
            given_event = "eventfromts" in req.params
            start, end = window(store, req) if "fromts" in req.params or not given_event else everything
            names = ("EventFromTS", "EventToTS")
            event_start, event_end = window(store, req, names=names) if given_event else everything
        elif "eventfromts" in req.params and "fromts" not in req.params:
            start, end = window(store, req, names=("EventFromTS", "EventToTS"))
            event_start, event_end = everything
        else:
            start, end = window(store, req)
            event_start, event_end = everything
        campaign_id = int_param(req, "CampaignID")
        message_id = int_param(req, "MessageID")
        contact_id = int_param(req, "ContactID")
        messages = store.messages

        def sent(r: Any) -> str:
            message = messages.get(r.MessageID)
            return message.ArrivedAt if message is not None else ""

        def build() -> list[Any]:
            return [
                r
                for r in rows_table.ordered()
                if (
                    start <= sent(r) <= end and event_start <= getattr(r, time_field) <= event_end
                    if by_send_time
                    else start <= getattr(r, time_field) <= end
                )
                and (campaign_id is None or r.CampaignID == campaign_id)
                and (message_id is None or r.MessageID == message_id)
                and (contact_id is None or r.ContactID == contact_id)
            ]

        depends = (rows_table, messages) if by_send_time else (rows_table,)
        return listing(
            store, req, resource, model.FIELDS, build, depends, key_extra=(start, end, event_start, event_end)
        )

    return handler


# ------------------------------------------------------------------ statistics

COUNTER_FIELDS = (
    "APIKeyID",
    "EventClickDelay",
    "EventClickedCount",
    "EventOpenDelay",
    "EventOpenedCount",
    "EventSpamCount",
    "EventUnsubscribedCount",
    "EventWorkflowExitedCount",
    "MessageBlockedCount",
    "MessageClickedCount",
    "MessageDeferredCount",
    "MessageHardBouncedCount",
    "MessageOpenedCount",
    "MessageQueuedCount",
    "MessageSentCount",
    "MessageSoftBouncedCount",
    "MessageSpamCount",
    "MessageUnsubscribedCount",
    "MessageWorkFlowExitedCount",
    "SourceID",
    "Timeslice",
    "Total",
)
STATUS_COUNTERS = {
    "opened": ("MessageOpenedCount",),
    "clicked": ("MessageOpenedCount", "MessageClickedCount"),
    "hardbounced": ("MessageHardBouncedCount",),
    "softbounced": ("MessageSoftBouncedCount",),
    "spam": ("MessageSpamCount", "EventSpamCount", "MessageOpenedCount"),
    "unsub": ("MessageUnsubscribedCount", "EventUnsubscribedCount", "MessageOpenedCount"),
    "blocked": ("MessageBlockedCount",),
    "deferred": ("MessageDeferredCount",),
    "queued": ("MessageQueuedCount",),
}


def statcounters(store: Store, req: Request) -> Reply:
    """`/statcounters`: counts per campaign, list or API key, over the lifetime or per day/hour."""
    if req.method != "GET":
        raise MethodNotAllowed(req.method, "statcounters")
    source = str_param(req, "CounterSource")
    timing = str_param(req, "CounterTiming")
    resolution = str_param(req, "CounterResolution")
    for name, value, allowed in (
        ("CounterSource", source, ("apikey", "campaign", "list", "sender")),
        ("CounterTiming", timing, ("message", "event")),
        ("CounterResolution", resolution, ("lifetime", "day", "hour", "highest")),
    ):
        if value is None:
            raise BadRequest(f'Missing mandatory filter "{name}"')
        if value.lower() not in allowed:
            raise BadRequest(f'Invalid value for filter "{name}": "{value}"')
    assert source is not None and resolution is not None
    source_id = int_param(req, "SourceId")
    lifetime = resolution.lower() in ("lifetime", "highest")
    start, end = ("", "9999") if lifetime else window(store, req)
    bucket_len = 13 if resolution.lower() == "hour" else 10

    def source_of(m: Message) -> int | None:
        kind = source.lower()
        if kind == "campaign":
            return m.CampaignID or None
        if kind == "list":
            owner = store.campaigns.get(m.CampaignID)
            return owner.ListID if owner is not None and owner.ListID else None
        if kind == "sender":
            return m.SenderID
        return settings.API_KEY_ID

    def build() -> list[dict[str, Any]]:
        totals: dict[tuple[int, str], Counter[str]] = {}
        for m in store.messages.ordered():
            if not start <= m.ArrivedAt <= end:
                continue
            sid = source_of(m)
            if sid is None or (source_id is not None and sid != source_id):
                continue
            slot = "" if lifetime else _timeslice(m.ArrivedAt, bucket_len)
            counter = totals.setdefault((sid, slot), Counter())
            counter["Total"] += 1
            if m.Status not in ("hardbounced", "softbounced", "blocked", "queued", "deferred"):
                counter["MessageSentCount"] += 1
            for name in STATUS_COUNTERS.get(m.Status, ()):
                counter[name] += 1
        events = (
            (store.opens, "EventOpenedCount", "OpenedAt"),
            (store.clicks, "EventClickedCount", "ClickedAt"),
        )
        for table, name, stamp in events:
            for e in table.ordered():
                owner = store.messages.get(e.MessageID)
                if owner is None or not start <= owner.ArrivedAt <= end:
                    continue
                sid = source_of(owner)
                if sid is None or (source_id is not None and sid != source_id):
                    continue
                slot = "" if lifetime else _timeslice(getattr(e, stamp), bucket_len)
                totals.setdefault((sid, slot), Counter())[name] += 1
        rows = []
        for (sid, slot), counter in sorted(totals.items()):
            row: dict[str, Any] = dict.fromkeys(COUNTER_FIELDS, 0)
            row.update(counter)
            row["APIKeyID"] = settings.API_KEY_ID
            row["SourceID"] = sid
            row["Timeslice"] = slot
            rows.append(row)
        return rows

    return listing(
        store,
        req,
        "statcounters",
        ("SourceID",),
        build,
        (store.messages, store.opens, store.clicks, store.campaigns),
        project=lambda row: row,
        key_extra=(start, end),
    )


def _timeslice(stamp: str, length: int) -> str:
    return stamp[:length] + ("T00:00:00Z" if length == 10 else ":00:00Z")


# ------------------------------------------------------------------ webhooks registration

CALLBACK_BODY = {
    "EventType": STR,
    "Url": STR,
    "Version": INT,
    "IsBackup": BOOL,
    "Status": STR,
    "APIKeyID": INT,
}


def eventcallbackurl(store: Store, req: Request) -> Reply:
    """`/eventcallbackurl`: where Mailjet posts events (addressable by ID or `{EventType}|{IsBackup}`)."""
    parts, method = req.parts, req.method
    if len(parts) == 1:
        if method == "GET":
            etype = str_param(req, "EventType")
            if etype is not None and etype.isdigit():
                etype = settings.EVENT_TYPE_CODES.get(int(etype), etype)
            status = str_param(req, "Status")
            backup = bool_param(req, "Backup")
            version = int_param(req, "Version")

            def build() -> list[EventCallbackUrl]:
                return [
                    c
                    for c in store.callbacks.ordered()
                    if (etype is None or c.EventType == etype)
                    and (status is None or c.Status == status)
                    and (backup is None or c.IsBackup == backup)
                    and (version is None or c.Version == version)
                ]

            return listing(store, req, "eventcallbackurl", EventCallbackUrl.FIELDS, build, (store.callbacks,))
        if method == "POST":
            body = read_body(req, CALLBACK_BODY, "TEventCallbackUrl")
            etype = body.get("EventType")
            if etype not in settings.EVENT_TYPES:
                raise BadRequest(f'Invalid value for property "EventType": "{etype}"')
            url = body.get("Url")
            if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
                raise BadRequest(f'Invalid value for property "Url": "{url}"')
            version = body.get("Version") or 1
            if version not in (1, 2):
                raise BadRequest(f'Invalid value for property "Version": "{version}"')
            backup = bool(body.get("IsBackup"))
            if any(c.EventType == etype and c.IsBackup == backup for c in store.callbacks):
                raise BadRequest(
                    f'MJ18 A EventCallbackUrl resource with value "{etype}|{str(backup).lower()}" '
                    "for EventType,IsBackup already exists."
                )
            row = EventCallbackUrl(
                ID=store.new_id("callback", start=340001),
                EventType=etype,
                Url=url,
                Version=version,
                IsBackup=backup,
                Status=body.get("Status") or "alive",
                APIKeyID=settings.API_KEY_ID,
            )
            store.callbacks.add(row.ID, row)
            return one(row, EventCallbackUrl.FIELDS, 201)
        raise MethodNotAllowed(method, "eventcallbackurl")
    key = parts[1]
    found: EventCallbackUrl | None
    if "|" in key:
        etype, _, backup_text = key.partition("|")
        backup = backup_text.lower() in ("true", "1")
        found = next(
            (c for c in store.callbacks if c.EventType == etype.lower() and c.IsBackup == backup), None
        )
    else:
        found = store.callbacks.get(int_key(key))
    if found is None:
        raise NotFound()
    if method == "GET":
        return one(found, EventCallbackUrl.FIELDS)
    if method == "PUT":
        body = read_body(req, CALLBACK_BODY, "TEventCallbackUrl")
        changed = False
        if body.get("Url") is not None and body["Url"] != found.Url:
            found.Url = body["Url"]
            found.Status = "alive"
            changed = True
        for name in ("Version", "IsBackup", "Status"):
            if body.get(name) is not None and getattr(found, name) != body[name]:
                setattr(found, name, body[name])
                changed = True
        if not changed:
            raise NotModified()
        store.callbacks.touch()
        return one(found, EventCallbackUrl.FIELDS)
    if method == "DELETE":
        store.callbacks.remove(found.ID)
        return Reply(status=204)
    raise MethodNotAllowed(method, "eventcallbackurl")


# ------------------------------------------------------------------ CSV import and batch jobs

CSVIMPORT_BODY = {
    "ContactsListID": INT,
    "ContactsList": INT,
    "DataID": INT,
    "Method": STR,
    "ErrTreshold": INT,
    "ErrThreshold": INT,
    "ImportOptions": STR,
    "Status": STR,
}


def csv_row(store: Store, job: Job) -> dict[str, Any]:
    """A csvimport job as Mailjet shows it."""
    row = projector(Job.CSV_FIELDS)(job)
    row["Status"] = store.job_status(job, store.wallclock()) if job.Status != "Abort" else "Abort"
    if row["Status"] == "Allocated":
        row["Status"] = "Upload"
    return row


def csvimport(store: Store, req: Request) -> Reply:
    """`/csvimport`: start, read or abort an import of an uploaded CSV file."""
    parts, method = req.parts, req.method
    if len(parts) == 1:
        if method == "GET":
            rows = [csv_row(store, j) for j in store.jobs.values() if j.kind == "csv"]
            return envelope(rows[:1000])
        if method == "POST":
            body = read_body(req, CSVIMPORT_BODY, "TCSVImport")
            data_id = body.get("DataID")
            if data_id not in store.uploads:
                raise BadRequest(f'Invalid value for property "DataID": "{data_id}"')
            method_name = str(body.get("Method") or "")
            if method_name.lower() not in settings.CSV_METHODS:
                raise BadRequest(f'Invalid value for property "Method": "{method_name}"')
            list_id = body.get("ContactsListID", body.get("ContactsList")) or 0
            if method_name.lower() in ("excludemarketing", "includemarketing"):
                if list_id:
                    raise BadRequest(
                        f"MJ08 Property ContactsList is invalid: method {method_name} changes a global "
                        "status and takes no list"
                    )
            else:
                store.find_list(list_id)
            started = new_job(store, "csv")
            started.list_id = list_id
            started.DataID = data_id
            started.Method = method_name.lower()
            started.ErrTreshold = body.get("ErrTreshold", body.get("ErrThreshold")) or 1
            started.ImportOptions = body.get("ImportOptions") or ""
            started.JobStart = ""
            store.start_job(started)
            return envelope([csv_row(store, started)], status=201)
        raise MethodNotAllowed(method, "csvimport")
    job = store.jobs.get(int_key(parts[1]))
    if job is None or job.kind != "csv":
        raise NotFound()
    if method == "GET":
        return envelope([csv_row(store, job)])
    if method == "PUT":
        body = read_body(req, CSVIMPORT_BODY, "TCSVImport")
        if body.get("Status") == "Abort" and job.Status not in (settings.JOB_DONE, settings.JOB_ERROR):
            job.Status = "Abort"
            job.JobEnd = store.clock.now_ts()
            return envelope([csv_row(store, job)])
        raise NotModified()
    raise MethodNotAllowed(method, "csvimport")


def batchjob(store: Store, req: Request) -> Reply:
    """`/batchjob`: the generic view of every async job."""
    if req.method != "GET":
        raise MethodNotAllowed(req.method, "batchjob")

    def render(job: Job) -> dict[str, Any]:
        return {
            "Count": job.Count,
            "Current": job.Current,
            "Errcount": job.Errcount,
            "ErrTreshold": job.ErrTreshold,
            "ID": job.ID,
            "JobEnd": job.JobEnd,
            "JobStart": job.JobStart,
            "JobType": "Contacts import" if job.kind == "csv" else "Manage many contacts",
            "Method": job.Method,
            "RefID": job.list_id,
            "RequestAt": job.RequestAt,
            "Status": store.job_status(job, store.wallclock()),
        }

    if len(req.parts) >= 2:
        job = store.jobs.get(int_key(req.parts[1]))
        if job is None:
            raise NotFound()
        return envelope([render(job)])
    rows = sorted(store.jobs.values(), key=lambda j: j.ID)
    return listing(store, req, "batchjob", ("ID",), lambda: rows, (), project=render, key_extra=len(rows))


def data_namespace(store: Store, req: Request) -> Reply:
    """`/v3/DATA/...`: the CSV upload and the job error reports."""
    parts = [p.lower() for p in req.parts]
    if len(parts) == 4 and parts[0] == "contactslist" and parts[2] == "csvdata":
        if req.method != "POST":
            raise MethodNotAllowed(req.method, "DATA/contactslist/csvdata")
        target = store.find_list(int_key(req.parts[1]))
        data_id = store.new_id("upload", start=57)
        store.uploads[data_id] = (target.ID, req.body)
        return Reply(status=200, payload={"ID": data_id})
    if len(parts) >= 4 and parts[0] == "batchjob" and parts[2] in ("csverror", "jsonerror"):
        if req.method != "GET":
            raise MethodNotAllowed(req.method, "DATA/batchjob")
        job = store.jobs.get(int_key(req.parts[1]))
        if job is None:
            raise NotFound()
        if parts[2] == "csverror":
            if job.kind != "csv":
                raise NotFound()
            return Reply(raw=job.error_csv, content_type="text/csv")
        return json_error_report(store, job)
    raise BadRequest(f'Unknown resource: "{"/".join(req.parts)}"', info="Bad Request")


ROUTES: dict[str, Handler] = {
    "contact": contact,
    "contactslist": contactslist,
    "listrecipient": listrecipient,
    "contactmetadata": contactmetadata,
    "contactdata": contactdata,
    "campaign": campaign,
    "campaigndraft": campaigndraft,
    "message": message,
    "openinformation": event_log("openinformation", OpenInformation, "OpenedAt", "opens"),
    "clickstatistics": event_log("clickstatistics", ClickStatistics, "ClickedAt", "clicks"),
    "bouncestatistics": event_log("bouncestatistics", BounceStatistics, "BouncedAt", "bounces"),
    "statcounters": statcounters,
    "eventcallbackurl": eventcallbackurl,
    "csvimport": csvimport,
    "batchjob": batchjob,
}


def route_rest(store: Store, req: Request) -> Reply:
    """Dispatch a `/v3/REST/<resource>...` request."""
    handler = ROUTES.get(req.parts[0].lower()) if req.parts else None
    if handler is None:
        name = req.parts[0] if req.parts else ""
        raise ApiError(f'Unknown resource: "{name}"', info="Bad Request")
    return handler(store, req)
