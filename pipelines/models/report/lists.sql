-- `mailjet-elt report`, list growth per list: subscribes, unsubscribes and net over all time, from the
-- daily rows of `mailjet_models.list_growth`.
with

final as (
    select
        list_id,
        max(list_name) as list_name,
        cast(sum(subscribes) as bigint) as subscribes,
        cast(sum(unsubscribes) as bigint) as unsubscribes,
        cast(sum(net) as bigint) as net
    from mailjet_models.list_growth
    where period = 'day'
    group by list_id
)

select * from final
order by subscribes desc, list_id
