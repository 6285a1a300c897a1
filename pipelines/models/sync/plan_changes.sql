-- sync_plan: the adds, unsubs and exits of one audience run (parameters: the run, its audience, Mailjet's
-- list ID, the list's permission or null, the on_exit action, whether exits are planned at all).
-- `addnoforce` (joined_audience): in the audience, passed the data tests, not a member, not suppressed,
-- with consent when the list needs it. `unsub` (consent_withdrawn): any subscribed member whose latest
-- consent event is a withdrawal no older than their subscription (any, for a member the sync added).
-- on_exit (left_audience, or the suppression or missing consent that took them out): members this
-- audience added, still subscribed, no longer eligible, none of whose rows failed a data test.
-- An add carries the contact's ID when the extract saw the contact (the read-back finds it among the
-- list's newest memberships by it). `properties`: the JSON object of the audience's property values (the
-- engine builds it).
insert into mailjet_sync.sync_plan (run_id, audience, list_id, email, contact_id, action, reason, evidence, properties)
with

run_params as (
    select
        cast(? as bigint) as run_id,
        cast(? as varchar) as audience,
        cast(? as bigint) as list_id,
        cast(? as varchar) as permission,
        cast(? as varchar) as on_exit,
        cast(? as boolean) as plans_exits
),

joined as (
    select distinct *
    from _state
    where not rejected and not is_member and suppressed is null and consent_ok
),

-- The Mailjet contact of each address being added (only those: grouping every contact by address cost
-- more than the rest of the statement at a million contacts).
known_contacts as (
    select mailjet_sync.norm(c.email) as email, min(c.id) as contact_id
    from mailjet.contacts as c
    where
        c._source = 'api'
        and c.email is not null
        and mailjet_sync.norm(c.email) in (select j.email from joined as j)
    group by mailjet_sync.norm(c.email)
),

adds as (
    select
        r.run_id,
        r.audience,
        r.list_id,
        a.email,
        k.contact_id,
        'addnoforce' as action,
        'joined_audience' as reason,
        'consent granted ' || cast(a.consent_at as varchar) || ' (' || a.consent_source || ')' as evidence,
        cast(null as varchar) as properties
    from run_params as r
    cross join joined as a
    left join known_contacts as k on k.email = a.email
),

unsubs as (
    select
        r.run_id,
        r.audience,
        r.list_id,
        m.email,
        m.contact_id,
        'unsub' as action,
        'consent_withdrawn' as reason,
        'withdrawn ' || cast(k."at" as varchar) || ' (' || k.said_by || '); subscribed '
        || coalesce(cast(m.subscribed_at as varchar), 'at an unknown date') as evidence,
        cast(null as varchar) as properties
    from run_params as r
    cross join _members as m
    join _consent as k on k.email = m.email
    where
        coalesce(m.is_unsubscribed, false) = false
        and (
            k.granted = false
            and (m.subscribed_at is null or k."at" >= m.subscribed_at or m.email in (select email from _managed))
        )
),

exits as (
    select
        r.run_id,
        r.audience,
        r.list_id,
        m.email,
        m.contact_id,
        r.on_exit as action,
        coalesce(
            p.suppressed,
            case when p.email is not null and r.permission is not null then 'no_consent' end,
            'left_audience'
        ) as reason,
        'added by this audience ' || cast(g.managed_since as varchar) as evidence,
        cast(null as varchar) as properties
    from run_params as r
    cross join _members as m
    join _managed as g on g.email = m.email
    left join _presence as p on p.email = m.email
    left join _consent as k on k.email = m.email
    where
        r.plans_exits
        and m.is_unsubscribed = false
        and not coalesce(p.eligible, false)
        and not coalesce(p.any_rejected, false)
        and not coalesce(
            (
                k.granted = false
                and (m.subscribed_at is null or k."at" >= m.subscribed_at or m.email in (select email from _managed))
            ),
            false
        )
),

final as (
    select * from adds
    union all
    select * from unsubs
    union all
    select * from exits
)

select * from final
