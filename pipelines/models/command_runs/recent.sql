-- `mailjet-elt runs`: the latest runs, newest first. Parameter: how many.
with runs as (
    select
        run_id,
        started_at,
        finished_at,
        command,
        status,
        coalesce(error, summary) as detail
    from mailjet_sync.command_runs
),

final as (
    select * from runs
)

select started_at, finished_at, command, status, detail from final
order by run_id desc
limit ?
