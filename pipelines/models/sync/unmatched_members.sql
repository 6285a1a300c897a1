-- Mailjet's memberships of a list (parameter) that name a contact the extract did not list.
select count(*) as unmatched
from mailjet.list_recipients as r
where
    r._source = 'api'
    and r.list_id = cast(? as bigint)
    and not exists (select 1 from mailjet.contacts as c where c.id = r.contact_id)
