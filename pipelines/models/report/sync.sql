-- `mailjet-elt report`, sync history: per UTC day and audience, for the 30 latest days with a plan, the
-- changes planned and done per action, those refused or failed, rejections and mismatches
-- (`mailjet_models.sync_history` summed over the audience's lists).
with

days as (
    select planned_on, row_number() over (order by planned_on desc) as recency
    from (select distinct planned_on from mailjet_models.sync_history) as d
),

final as (
    select
        h.planned_on,
        h.audience,
        cast(sum(h.runs) as bigint) as runs,
        cast(sum(h.adds_planned + h.unsubs_planned + h.removes_planned + h.updates_planned) as bigint)
            as planned,
        cast(sum(h.adds_done) as bigint) as subscribed,
        cast(sum(h.unsubs_done) as bigint) as unsubscribed,
        cast(sum(h.removes_done) as bigint) as removed,
        cast(sum(h.updates_done) as bigint) as updated,
        cast(sum(
            h.adds_refused + h.adds_failed + h.unsubs_refused + h.unsubs_failed
            + h.removes_refused + h.removes_failed + h.updates_refused + h.updates_failed
        ) as bigint) as refused_or_failed,
        cast(sum(h.rejected + h.held_back) as bigint) as left_out,
        cast(sum(h.mismatches) as bigint) as mismatches
    from mailjet_models.sync_history as h
    join days as d on d.planned_on = h.planned_on
    where d.recency <= 30
    group by h.planned_on, h.audience
)

select * from final
order by planned_on, audience
