-- sync_unsubscriptions: the durable record of every unsubscription the sync has seen, gaining those the
-- sources show now that it does not hold yet (parameter: when they were seen). Mailjet's unsubscribed
-- members (an extract's, or an imported file's), webhook `unsub` events and the CRM's withdrawals; `apply`
-- adds those a removal batch passed over. Nothing is ever deleted from it: a removal that erased Mailjet's
-- record of an unsubscription, a list export that no longer shows it, or a CRM file loaded without it
-- leaves the record here.
insert into mailjet_sync.sync_unsubscriptions (email, list_id, permission, unsubscribed_at, source, recorded_at)
with

list_unsubs as (
    select
        mailjet_sync.norm(c.email) as email,
        r.list_id,
        cast(null as varchar) as permission,
        r.unsubscribed_at,
        case when r._source = 'api' then 'mailjet' else r._source end as source
    from mailjet.list_recipients as r
    join mailjet.contacts as c on c.id = r.contact_id
    where r.is_unsubscribed = true
),

crm_withdrawals as (
    select
        mailjet_sync.norm(email) as email,
        cast(null as bigint) as list_id,
        mailjet_sync.norm(permission) as permission,
        "at" as unsubscribed_at,
        source
    from crm_consent_events
    where granted = false and "at" is not null
),

webhook_unsubs as (
    select
        mailjet_sync.norm(e.email) as email,
        e.mj_list_id as list_id,
        cast(null as varchar) as permission,
        e.time as unsubscribed_at,
        'webhook' as source
    from mailjet_api.events as e
    where e.event = 'unsub'
),

seen as (
    select * from list_unsubs
    union all
    select * from crm_withdrawals
    union all
    select * from webhook_unsubs
),

final as (
    select distinct
        s.email,
        s.list_id,
        s.permission,
        s.unsubscribed_at,
        s.source,
        cast(? as timestamp with time zone) as recorded_at
    from seen as s
    where
        s.email is not null
        and (s.list_id is not null or s.permission is not null)
        and not exists (
            select 1
            from mailjet_sync.sync_unsubscriptions as u
            where
                u.email = s.email
                and u.source = s.source
                and u.list_id is not distinct from s.list_id
                and u.permission is not distinct from s.permission
                and u.unsubscribed_at is not distinct from s.unsubscribed_at
        )
)

select * from final
