-- mailjet.list_recipients: one membership per (contact, list).
-- (The file rows are matched once per load into mailjet_matched.list_recipients: views/matched/list_recipients.sql.)
-- Every membership Mailjet lists, as it lists it (Mailjet's word on a membership always wins); then the
-- memberships imported files record (`--list`), where Mailjet has none: matched to Mailjet's contact by
-- email and to Mailjet's list by ID, else by name (a live list before a deleted one). Between imports,
-- the latest one's row stands, and the latest import that stated a status gives it: a file without a
-- status never re-subscribes anyone. Rows of a contact Mailjet has deleted, and memberships Mailjet listed
-- and has removed since, are left out, whenever the file was imported.
select
    id, contact_id, list_id, list_name, is_unsubscribed, is_active, subscribed_at, unsubscribed_at,
    'api' as _source, _extracted_at
from mailjet_api.list_recipients t
union all
select
    id, contact_id, list_id, list_name, is_unsubscribed, is_active, subscribed_at, unsubscribed_at,
    _source, _extracted_at
from mailjet_matched.list_recipients m
