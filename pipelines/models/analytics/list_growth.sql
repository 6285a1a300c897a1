-- mailjet_models.list_growth: subscribes, unsubscribes and net growth per list and period, one model for
-- both grains: filter on `period` ('day' or 'week'); a week's row sums its seven days.
-- Read from `mailjet.list_recipients`, which holds one row per (contact, list) membership as it stands:
-- its latest subscription (`subscribed_at`) and, while it is unsubscribed, its unsubscription
-- (`unsubscribed_at`). A membership subscribed, unsubscribed and subscribed again counts one subscribe
-- (the latest) and no unsubscribe; a membership Mailjet has deleted counts nothing; a membership known
-- only from an imported file (no `subscribed_at`) counts nothing.
--   list_id       the list (`mailjet.list_recipients.list_id`)
--   list_name     the list's name (`mailjet.contact_lists.name`; else the name the membership states)
--   period        'day' (a UTC date) or 'week' (an ISO week, Monday to Sunday, UTC)
--   period_start  the period's first day: the date itself, or the week's Monday
--   subscribes    memberships whose `subscribed_at` falls in the period
--   unsubscribes  memberships unsubscribed now (`is_unsubscribed`) whose `unsubscribed_at` falls in the period
--   net           subscribes - unsubscribes
-- Periods with neither a subscribe nor an unsubscribe have no row.
with
recipients as (
    select list_id, list_name, is_unsubscribed, subscribed_at, unsubscribed_at from mailjet.list_recipients
),

lists as (
    select id, name from mailjet.contact_lists
),

moves as (
    select list_id, cast(timezone('UTC', subscribed_at) as date) as moved_on, 1 as subscribes, 0 as unsubscribes
    from recipients
    where subscribed_at is not null
    union all
    select list_id, cast(timezone('UTC', unsubscribed_at) as date) as moved_on, 0 as subscribes, 1 as unsubscribes
    from recipients
    where is_unsubscribed and unsubscribed_at is not null
),

periods as (
    select list_id, 'day' as period, moved_on as period_start, subscribes, unsubscribes from moves
    union all
    select
        list_id,
        'week' as period,
        cast(date_trunc('week', cast(moved_on as timestamp)) as date) as period_start,
        subscribes,
        unsubscribes
    from moves
),

names as (
    select list_id, max(list_name) as list_name from recipients group by list_id
),

final as (
    select
        p.list_id,
        coalesce(l.name, n.list_name) as list_name,
        p.period,
        p.period_start,
        cast(sum(p.subscribes) as bigint) as subscribes,
        cast(sum(p.unsubscribes) as bigint) as unsubscribes,
        cast(sum(p.subscribes) - sum(p.unsubscribes) as bigint) as net
    from periods p
    left join lists l on l.id = p.list_id
    left join names n on n.list_id = p.list_id
    group by p.list_id, coalesce(l.name, n.list_name), p.period, p.period_start
)

select * from final
