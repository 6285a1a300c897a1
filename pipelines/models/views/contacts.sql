-- mailjet.contacts: one contact per email (compared case-insensitively).
-- (The file rows are matched once per load into mailjet_matched.contacts: views/matched/contacts.sql.)
-- Every contact Mailjet lists, as it lists it; then each contact known only from imported files: the
-- latest import's row, with the latest name any file gave. File rows of a contact Mailjet has deleted
-- (Mailjet listed the email once and lists it no more) are left out, whenever the file was imported.
select
    id, email, name, is_excluded_from_campaigns, exclusion_from_campaigns_updated_at, is_opt_in_pending,
    is_spam_complaining, delivered_count, created_at, last_activity_at, last_update_at, unsubscribed_at,
    unsubscribed_by, 'api' as _source, _extracted_at
from mailjet_api.contacts t
union all
select
    id, email, name, is_excluded_from_campaigns, exclusion_from_campaigns_updated_at, is_opt_in_pending,
    is_spam_complaining, delivered_count, created_at, last_activity_at, last_update_at, unsubscribed_at,
    unsubscribed_by, _source, _extracted_at
from mailjet_matched.contacts m
