-- sync_rejections (stage consent): the CRM's consent rows the ledger cannot use (judged once per plan:
-- consent_unusable.sql), written with one audience run (parameters: the run, its audience, Mailjet's list
-- ID, the list's permission or null, whether this run takes the rows of no audience's permission, the time
-- of the run). A row goes with the run of its permission; the others with the plan's first run.
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
    from _consent_unusable as j
    cross join run_params as r
    where (j.is_known and j.permission = r.permission) or (not j.is_known and r.takes_rest)
)

select * from final
