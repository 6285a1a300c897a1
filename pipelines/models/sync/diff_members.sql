-- _members: the members of the list whose memberships count (parameter: its ID), by email: Mailjet's
-- memberships, and the unsubscribes imported files state, which keep those people off the list (a
-- file's "subscribed" is no proof of a live membership).
create temporary table _members as
select
    mailjet_sync.norm(c.email) as email,
    min(case when r._source = 'api' then r.contact_id end) as contact_id,
    bool_or(r.is_unsubscribed) as is_unsubscribed,
    max(r.subscribed_at) as subscribed_at
from mailjet.list_recipients as r
join mailjet.contacts as c on c.id = r.contact_id
where
    r.list_id = cast(? as bigint)
    and c.email is not null
    and (r._source = 'api' or r.is_unsubscribed = true)
group by mailjet_sync.norm(c.email)
