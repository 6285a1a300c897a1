-- sync_rejections (stage plan): the people of one audience run held back, in the audience but not to
-- be added: unsubscribed from the list in Mailjet, suppressed, or, when the list needs a permission
-- (parameter, else null), without consent or with consent withdrawn. Parameters: the run, its
-- audience, Mailjet's list ID, the permission, the time of the run.
insert into mailjet_sync.sync_rejections (run_id, audience, list_id, email, stage, reason, detail, "at")
with

run_params as (
    select
        cast(? as bigint) as run_id,
        cast(? as varchar) as audience,
        cast(? as bigint) as list_id,
        cast(? as varchar) as permission,
        cast(? as timestamp with time zone) as planned_at
),

held as (
    select distinct
        s.email,
        s.consent_at,
        s.consent_source,
        case
            when s.is_unsubscribed then 'unsubscribed_in_mailjet'
            when s.suppressed is not null then s.suppressed
            when r.permission is not null and s.granted is null then 'no_consent'
            when r.permission is not null and s.granted = false then 'consent_withdrawn'
        end as reason
    from run_params as r
    cross join _state as s
    where not s.rejected and (not s.is_member or s.is_unsubscribed)
),

final as (
    select
        r.run_id,
        r.audience,
        r.list_id,
        h.email,
        'plan' as stage,
        h.reason,
        case h.reason
            when 'unsubscribed_in_mailjet' then 'unsubscribed from this list in Mailjet; only they can subscribe again'
            when 'excluded_from_campaigns' then 'excluded from campaigns in Mailjet'
            when 'spam_complaint' then 'reported a message as spam'
            when 'hard_bounce' then 'a message to the address bounced permanently'
            when 'no_consent' then 'no consent event for the list''s permission'
            else 'consent withdrawn ' || cast(h.consent_at as varchar) || ' (' || h.consent_source || ')'
        end as detail,
        r.planned_at as "at"
    from run_params as r
    cross join held as h
    where h.reason is not null
)

select * from final
