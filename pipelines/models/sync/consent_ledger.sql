-- mailjet_sync.consent_ledger: every consent event we know, per (email, permission).
-- The CRM's consent events; Mailjet's list state for each list an audience maps to a permission
-- (list_permissions: list_id, permission); the unsubscribes imported files state; webhook `unsub`
-- events; the durable record of unsubscriptions. A table not loaded yet stands in as an empty relation
-- of its columns.
create or replace view mailjet_sync.consent_ledger as
with

crm_events as (
    select
        mailjet_sync.norm(email) as email,
        mailjet_sync.norm(permission) as permission,
        granted,
        "at",
        source,
        cast(null as bigint) as list_id
    from crm_consent_events
    where email is not null and permission is not null and granted is not null and at_given is not null
),

-- A subscribed member is a grant at `subscribed_at`, an unsubscribed one a withdrawal at
-- `unsubscribed_at`. No date, no event: a date would be invented, and the event could outrank a real
-- one for another list of the same permission. A subscription the sync made is no grant of the
-- person's. A file's unsubscribe is dated when the file was imported.
list_state as (
    select
        mailjet_sync.norm(c.email) as email,
        p.permission,
        (r.is_unsubscribed = false) as granted,
        case
            when r.is_unsubscribed
                then coalesce(r.unsubscribed_at, case when r._source <> 'api' then r._extracted_at end)
            else r.subscribed_at
        end as "at",
        case when r._source = 'api' then 'mailjet' else r._source end as source,
        r.list_id
    from mailjet.list_recipients as r
    join list_permissions as p on p.list_id = r.list_id
    join mailjet.contacts as c on c.id = r.contact_id
    -- the sync's own subscriptions, one row per (list, email): an anti join written as a left join on a
    -- distinct relation (DuckDB ran the correlated `not exists` as a semi join on every membership's email
    -- first, several times the cost at a million members)
    left join (
        select distinct list_id, email
        from mailjet_sync.sync_snapshot
        where last_action = 'addnoforce'
    ) as s on s.list_id = r.list_id and s.email = mailjet_sync.norm(c.email)
    where
        c.email is not null
        and (
            (r.is_unsubscribed = true and (r.unsubscribed_at is not null or r._source <> 'api'))
            or (r.is_unsubscribed = false and r.subscribed_at is not null and s.email is null)
        )
),

webhook_unsubs as (
    select
        mailjet_sync.norm(e.email) as email,
        p.permission,
        false as granted,
        e.time as "at",
        'webhook' as source,
        e.mj_list_id as list_id
    from mailjet_api.events as e
    join list_permissions as p on p.list_id = e.mj_list_id
    where e.event = 'unsub' and e.email is not null
),

-- The durable record of unsubscriptions (sync_unsubscriptions) holds those the sources no longer show (a
-- removal erased Mailjet's record, a CRM file was loaded without the row): each dated one stays a
-- withdrawal of its permission (the CRM's own, or its list's).
recorded as (
    select
        u.email,
        coalesce(u.permission, p.permission) as permission,
        false as granted,
        u.unsubscribed_at as "at",
        u.source,
        u.list_id
    from mailjet_sync.sync_unsubscriptions as u
    left join list_permissions as p on p.list_id = u.list_id
    where u.unsubscribed_at is not null and coalesce(u.permission, p.permission) is not null
),

live as (
    select * from crm_events
    union all
    select * from list_state
    union all
    select * from webhook_unsubs
),

-- What the record adds: the unsubscriptions the sources no longer show (those they still show are there).
-- Every recorded row is a withdrawal: only the live withdrawals can match one, and only they are hashed.
forgotten as (
    select * from recorded
    except
    select * from live
    where granted = false
),

final as (
    select * from live
    union all
    select * from forgotten
)

select * from final
