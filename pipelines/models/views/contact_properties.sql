-- mailjet.contact_properties: one value per (contact, property name).
-- (The file rows are matched once per load into mailjet_matched.contact_properties: views/matched/contact_properties.sql.)
-- Mailjet's values as it lists them; then the values imported files give, for a contact Mailjet has
-- (matched by email) or one known only from files: the latest import's value wins, and a value Mailjet
-- states is never replaced. Rows of a contact Mailjet has deleted are left out (as in mailjet.contacts).
select contact_id, name, value, 'api' as _source, _extracted_at
from mailjet_api.contact_properties t
union all
select
    contact_id, name, value, _source, _extracted_at
from mailjet_matched.contact_properties m
