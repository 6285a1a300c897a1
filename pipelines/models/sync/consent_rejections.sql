-- sync_rejections (stage consent): the CRM's consent rows the ledger cannot use, written with one
-- audience run (parameters: the run, its audience, Mailjet's list ID, the list's permission or null,
-- whether this run takes the rows of no audience's permission, the time of the run, the pattern of a valid
-- address): an address missing or invalid once normalized, no permission, no date, a `granted` left
-- empty; and a withdrawal whose permission no audience of the file declares (a misspelt permission would
-- lose it). A row goes with the run of its permission; the others with the plan's first run.
insert into mailjet_sync.sync_rejections (run_id, audience, list_id, email, stage, reason, detail, "at")
with

run_params as (
    select
        cast(? as bigint) as run_id,
        cast(? as varchar) as audience,
        cast(? as bigint) as list_id,
        cast(? as varchar) as permission,
        cast(? as boolean) as takes_rest,
        cast(? as timestamp with time zone) as planned_at
),

events as (
    select
        cast(e.email as varchar) as email_given,
        mailjet_sync.norm(e.email) as email,
        cast(e.permission as varchar) as permission_given,
        mailjet_sync.norm(e.permission) as permission,
        e.granted,
        e.granted_given,
        e.at_given
    from crm_consent_events as e
),

judged as (
    select
        e.*,
        case
            when e.email is null then 'missing_email'
            -- the pattern is a parameter of its own, not a column of run_params: DuckDB compiles a
            -- pattern it reads from a column once per row (hundreds of times slower)
            when not regexp_matches(e.email, cast(? as varchar)) then 'invalid_email'
            when e.permission is null then 'no_permission'
            when e.at_given is null then 'no_date'
            when e.granted_given is null then 'no_granted'
            when
                e.granted = false and e.permission not in (select k.permission from known_permissions as k)
                then 'unknown_permission'
        end as reason,
        e.permission is not null and e.permission in (select k.permission from known_permissions as k) as is_known
    from events as e
),

final as (
    select
        r.run_id,
        r.audience,
        r.list_id,
        j.email_given as email,
        'consent' as stage,
        j.reason,
        'crm.consent_events: permission ' || coalesce(j.permission_given, '(none)') || ', granted '
        || coalesce(cast(j.granted_given as varchar), '(none)') || ', at '
        || coalesce(cast(j.at_given as varchar), '(none)') as detail,
        r.planned_at as "at"
    from judged as j
    cross join run_params as r
    where
        j.reason is not null
        and ((j.is_known and j.permission = r.permission) or (not j.is_known and r.takes_rest))
)

select * from final
