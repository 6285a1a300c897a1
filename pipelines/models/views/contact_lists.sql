-- mailjet.contact_lists: one list per name.
-- (The file rows are matched once per load into mailjet_matched.contact_lists: views/matched/contact_lists.sql.)
-- Every list Mailjet lists; then each list an import named (`--list`) that Mailjet does not have, by ID
-- or by name (case-insensitive): its first import's spelling, with the ID derived from the name (or the
-- number given).
select id, name, address, is_deleted, subscriber_count, created_at, 'api' as _source, _extracted_at
from mailjet_api.contact_lists t
union all
select
    id, name, address, is_deleted, subscriber_count, created_at, _source, _extracted_at
from mailjet_matched.contact_lists m
