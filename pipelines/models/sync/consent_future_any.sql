-- How many dates of the ledger's sources are later than now (parameter: now plus a small skew): the
-- CRM's events, Mailjet's memberships, webhook `unsub` events and the record of unsubscriptions, read as
-- they are. Every date of the ledger is one of these, so none here means no future event; any means the
-- ledger is read for them (consent_future.sql).
with

params as (
    select cast(? as timestamp with time zone) as after
),

future as (
    select 1 as found
    from crm_consent_events as e
    cross join params as p
    where e."at" > p.after
    union all
    select 1 as found
    from mailjet.list_recipients as r
    cross join params as p
    where r.subscribed_at > p.after or r.unsubscribed_at > p.after or r._extracted_at > p.after
    union all
    select 1 as found
    from mailjet_api.events as w
    cross join params as p
    where w.event = 'unsub' and w.time > p.after
    union all
    select 1 as found
    from mailjet_sync.sync_unsubscriptions as u
    cross join params as p
    where u.unsubscribed_at > p.after
),

final as (
    select count(*) as found
    from future
)

select * from final
