-- `mailjet-elt runs`: the latest runs of the commands that write the warehouse (command_runs), newest
-- first: when, what, how it ended, how long it took, and its figures or its error. Bound: how many.
with runs as (
    select
        run_id,
        date_trunc('second', started_at) as started_at,
        command,
        status,
        round(extract(epoch from finished_at - started_at), 1) as seconds,
        coalesce(error, summary) as detail
    from mailjet_sync.command_runs
),

final as (
    select * from runs
    order by run_id desc
    limit ?
)

select started_at, command, status, seconds, detail from final
order by run_id desc
