-- sync_unsubscriptions gains the members a removal batch passed over because Mailjet showed them
-- unsubscribed from the list (_kept: email, list_id, Mailjet's UnsubscribedAt as text or null; parameter:
-- when apply saw it), unless the record holds them already.
insert into mailjet_sync.sync_unsubscriptions (email, list_id, permission, unsubscribed_at, source, recorded_at)
with

seen as (
    select distinct
        mailjet_sync.norm(k.email) as email,
        k.list_id,
        cast(k.unsubscribed_at as timestamp with time zone) as unsubscribed_at
    from _kept as k
),

final as (
    select
        s.email,
        s.list_id,
        cast(null as varchar) as permission,
        s.unsubscribed_at,
        'apply' as source,
        cast(? as timestamp with time zone) as recorded_at
    from seen as s
    where not exists (
        select 1
        from mailjet_sync.sync_unsubscriptions as u
        where u.email = s.email and u.list_id = s.list_id and u.unsubscribed_at is not distinct from s.unsubscribed_at
    )
)

select * from final
