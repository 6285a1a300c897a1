-- `mailjet-elt report`, list growth: subscribes, unsubscribes and net over every list, per ISO week
-- (`mailjet_models.list_growth`), for the 26 latest weeks that saw any.
with

weeks as (
    select
        period_start as week,
        cast(sum(subscribes) as bigint) as subscribes,
        cast(sum(unsubscribes) as bigint) as unsubscribes,
        cast(sum(net) as bigint) as net
    from mailjet_models.list_growth
    where period = 'week'
    group by period_start
),

ranked as (
    select *, row_number() over (order by week desc) as recency
    from weeks
),

final as (
    select week, subscribes, unsubscribes, net
    from ranked
    where recency <= 26
)

select * from final
order by week
