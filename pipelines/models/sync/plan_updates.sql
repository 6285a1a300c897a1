-- sync_plan: the `update` rows of one audience run (parameters: the run, its audience, Mailjet's list
-- ID): subscribed members in the audience, eligible, whose declared properties differ from Mailjet's. A
-- null value is never pushed (nothing in Mailjet is erased by accident). Written for the first property
-- (p_0, named 'p_0'); the engine repeats each term for every declared property, and builds `properties`,
-- the JSON object of the changed values.
insert into mailjet_sync.sync_plan (run_id, audience, list_id, email, contact_id, action, reason, evidence, properties)
with

run_params as (
    select cast(? as bigint) as run_id, cast(? as varchar) as audience, cast(? as bigint) as list_id
),

final as (
    select
        r.run_id,
        r.audience,
        r.list_id,
        a.email,
        a.contact_id,
        'update' as action,
        'properties_changed' as reason,
        case
            when (a.p_0 is not null and (c.p_0 is null or a.p_0 <> c.p_0))
                then 'p_0' || ': ' || coalesce(c.p_0, '(none)') || ' -> ' || a.p_0 || '; '
            else ''
        end as evidence,
        cast(null as varchar) as properties
    from run_params as r
    cross join _state as a
    left join _current as c on c.contact_id = a.contact_id
    where
        not a.rejected
        and a.is_member
        and a.is_unsubscribed = false
        and a.suppressed is null
        and a.consent_ok
        and (a.p_0 is not null and (c.p_0 is null or a.p_0 <> c.p_0))
)

select * from final
