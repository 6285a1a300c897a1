-- The runs still to apply (planned, or being applied) of every audience, with their status: the plan
-- marks superseded those of audiences its file no longer defines.
with runs as (
    select run_id, audience, status
    from mailjet_sync.sync_runs
),

final as (
    select run_id, audience, status
    from runs
    where status in ('planned', 'applying')
)

select * from final
order by audience, run_id
