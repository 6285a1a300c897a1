-- The lists an audience's `-- list:` header may name: every list of mailjet.contact_lists not deleted,
-- Mailjet's (`_source` 'api') and those known only from imported files, by ID.
select id, name, _source
from mailjet.contact_lists
where coalesce(is_deleted, false) = false
order by id
