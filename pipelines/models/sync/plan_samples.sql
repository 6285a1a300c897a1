-- A few emails of each action of one run (parameters: the run, how many per action), in email order.
with

numbered as (
    select action, email, row_number() over (partition by action order by email) as n
    from mailjet_sync.sync_plan
    where run_id = cast(? as bigint)
),

final as (
    select action, email
    from numbered
    where n <= cast(? as bigint)
)

select * from final
order by action, email
