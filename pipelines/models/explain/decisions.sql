-- `mailjet-elt explain`: every change a plan decided about the person, oldest run first, with the run's
-- status and what `apply` did with it (`mailjet_sync.sync_changelog`: the job, its outcome, Mailjet's
-- error). Parameter: the email.
with

person as (
    select mailjet_sync.norm(?) as email
),

planned as (
    select p.run_id, p.audience, p.list_id, p.email, p.action, p.reason, p.evidence
    from mailjet_sync.sync_plan as p
    join person as x on p.email = x.email
),

final as (
    select
        p.run_id,
        r.planned_at,
        p.audience,
        coalesce(p.list_id, ch.list_id, r.list_id) as list_id,
        r.list_name,
        p.action,
        p.reason,
        p.evidence,
        r.status as run_status,
        ch.job_id,
        ch.outcome,
        ch.error,
        ch."at" as applied_at
    from planned as p
    left join mailjet_sync.sync_runs as r on r.run_id = p.run_id and r.audience = p.audience
    left join mailjet_sync.sync_changelog as ch
        on ch.run_id = p.run_id and ch.audience = p.audience and ch.email = p.email and ch.action = p.action
)

select * from final
order by run_id, audience, action
