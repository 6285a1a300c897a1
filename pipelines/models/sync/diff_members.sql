-- _members: the members of the list whose memberships count (parameter: its ID), by email: Mailjet's
-- memberships, and the unsubscribes imported files state, which keep those people off the list (a
-- file's "subscribed" is no proof of a live membership). Then whoever the durable record
-- (sync_unsubscriptions) says unsubscribed from the list and Mailjet no longer shows as a member (a
-- removal erased it, or an export no longer holds it): they stay off it as unsubscribed, unless their
-- latest consent event for the list's permission (_consent) is a grant made after that unsubscription.
create temporary table _members as
with

list_params as (
    select cast(? as bigint) as list_id
),

memberships as (
    select
        mailjet_sync.norm(c.email) as email,
        min(case when r._source = 'api' then r.contact_id end) as contact_id,
        bool_or(r.is_unsubscribed) as is_unsubscribed,
        max(r.subscribed_at) as subscribed_at
    from mailjet.list_recipients as r
    join mailjet.contacts as c on c.id = r.contact_id
    join list_params as p on p.list_id = r.list_id
    where c.email is not null and (r._source = 'api' or r.is_unsubscribed = true)
    group by mailjet_sync.norm(c.email)
),

recorded as (
    select u.email, max(coalesce(u.unsubscribed_at, u.recorded_at)) as unsubscribed_at
    from mailjet_sync.sync_unsubscriptions as u
    join list_params as p on p.list_id = u.list_id
    group by u.email
),

erased as (
    select
        r.email,
        cast(null as bigint) as contact_id,
        true as is_unsubscribed,
        cast(null as timestamp with time zone) as subscribed_at
    from recorded as r
    left join _consent as k on k.email = r.email
    where
        not exists (select 1 from memberships as m where m.email = r.email)
        and not coalesce(k.granted and k."at" > r.unsubscribed_at, false)
),

final as (
    select * from memberships
    union all
    select * from erased
)

select * from final
