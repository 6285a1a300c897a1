-- `mailjet-elt report`, list growth per list: subscribes, unsubscribes and net over all time, from the
-- daily rows of `mailjet_models.list_growth`, for the 20 lists with the most subscribes.
with

per_list as (
    select
        list_id,
        max(list_name) as list_name,
        cast(sum(subscribes) as bigint) as subscribes,
        cast(sum(unsubscribes) as bigint) as unsubscribes,
        cast(sum(net) as bigint) as net
    from mailjet_models.list_growth
    where period = 'day'
    group by list_id
),

final as (
    select *
    from per_list
    order by subscribes desc, list_id
    limit 20
)

select * from final
order by subscribes desc, list_id
