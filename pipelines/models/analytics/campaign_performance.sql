-- mailjet_models.campaign_performance: one row per campaign and UTC day of sending.
-- Every figure counts the messages a campaign sent on `sent_on` (the UTC date of `messages.arrived_at`)
-- and what became of them, whenever it happened: an open on the next day counts on the day the message
-- was sent (Mailjet's `CounterTiming=Message`), so each day's rates compare like with like, and the days
-- of a campaign add up to its lifetime statcounters (`mailjet.campaign_stats`).
--   campaign_id     the campaign (`mailjet.messages.campaign_id`; opens: `mailjet.opens.campaign_id`)
--   sent_on         the UTC date the messages were sent (`arrived_at`)
--   sent            messages sent (`mailjet.messages`: one row each) = statcounters' Total
--   delivered       sent, less the hard and soft bounces, blocked, queued and deferred messages = MessageSentCount
--   opens           opens (`mailjet.opens`, every row) = EventOpenedCount
--   unique_opens    messages opened: one with an open or a click (`mailjet.opens`, `mailjet.clicks`), or
--                   whose status says it was opened, clicked, reported as spam or unsubscribed from
--                   (`mailjet.messages.status`, `mailjet.events`): Mailjet counts those as opened too,
--                   an open pixel being often blocked = MessageOpenedCount
--   clicks          clicks (`mailjet.clicks`, every row) = EventClickedCount
--   unique_clicks   messages clicked: one with a click (`mailjet.clicks`), or whose status is `clicked`
--                   = MessageClickedCount
--   hard_bounces    messages whose status is `hardbounced`, or a webhook `bounce` event with hard_bounce
--                   (`mailjet.messages.status`, `mailjet.events`) = MessageHardBouncedCount
--   soft_bounces    messages whose status is `softbounced` or `bounce`, or a webhook `bounce` event, and
--                   not hard bounces (same tables) = MessageSoftBouncedCount
--   blocked         messages whose status is `blocked`, or a webhook `blocked` event = MessageBlockedCount
--   spam_reports    messages whose status is `spam`, or a webhook `spam` event = MessageSpamCount
--   unsubscribes    messages whose status is `unsub`, or a webhook `unsub` event = MessageUnsubscribedCount
--   delivery_rate   delivered / sent
--   open_rate       unique_opens / delivered
--   click_rate      unique_clicks / delivered
--   bounce_rate     (hard_bounces + soft_bounces) / sent
--   spam_rate       spam_reports / delivered
--   unsubscribe_rate  unsubscribes / delivered
-- A rate is null when its denominator is 0.
with
messages as (
    select id, campaign_id, arrived_at, coalesce(status, '') as status from mailjet.messages
),

opens as (
    select message_id, campaign_id, arrived_at from mailjet.opens
),

clicks as (
    select message_id from mailjet.clicks
),

events as (
    select message_id, event, hard_bounce from mailjet.events
    where event in ('bounce', 'blocked', 'spam', 'unsub')
),

opened_messages as (
    select distinct message_id from opens
),

clicked_messages as (
    select distinct message_id from clicks
),

heard as (
    select
        message_id,
        max(case when event = 'bounce' and hard_bounce then 1 else 0 end) as hard,
        max(case when event = 'bounce' and not coalesce(hard_bounce, false) then 1 else 0 end) as soft,
        max(case when event = 'blocked' then 1 else 0 end) as blocked,
        max(case when event = 'spam' then 1 else 0 end) as spam,
        max(case when event = 'unsub' then 1 else 0 end) as unsub
    from events
    group by message_id
),

outcomes as (
    select
        m.id as message_id,
        m.campaign_id,
        cast(timezone('UTC', m.arrived_at) as date) as sent_on,
        case when m.status = 'hardbounced' or h.hard = 1 then 1 else 0 end as is_hard,
        case
            when m.status = 'hardbounced' or h.hard = 1 then 0
            when m.status in ('softbounced', 'bounce') or h.soft = 1 then 1
            else 0
        end as is_soft,
        case when m.status = 'blocked' or h.blocked = 1 then 1 else 0 end as is_blocked,
        case when m.status in ('queued', 'deferred') then 1 else 0 end as is_pending,
        case when m.status = 'spam' or h.spam = 1 then 1 else 0 end as is_spam,
        case when m.status = 'unsub' or h.unsub = 1 then 1 else 0 end as is_unsub,
        case
            when o.message_id is not null or c.message_id is not null then 1
            when m.status in ('opened', 'clicked', 'spam', 'unsub') or h.spam = 1 or h.unsub = 1 then 1
            else 0
        end as is_opened,
        case when c.message_id is not null or m.status = 'clicked' then 1 else 0 end as is_clicked
    from messages m
    left join heard h on h.message_id = m.id
    left join opened_messages o on o.message_id = m.id
    left join clicked_messages c on c.message_id = m.id
),

sent as (
    select
        campaign_id,
        sent_on,
        count(*) as sent,
        sum(case when is_hard + is_soft + is_blocked + is_pending = 0 then 1 else 0 end) as delivered,
        sum(is_opened) as unique_opens,
        sum(is_clicked) as unique_clicks,
        sum(is_hard) as hard_bounces,
        sum(is_soft) as soft_bounces,
        sum(is_blocked) as blocked,
        sum(is_spam) as spam_reports,
        sum(is_unsub) as unsubscribes
    from outcomes
    group by campaign_id, sent_on
),

opened as (
    select
        campaign_id,
        cast(timezone('UTC', arrived_at) as date) as sent_on,
        count(*) as opens
    from opens
    group by campaign_id, cast(timezone('UTC', arrived_at) as date)
),

clicked as (
    select
        o.campaign_id,
        o.sent_on,
        count(*) as clicks
    from clicks c
    join outcomes o on o.message_id = c.message_id
    group by o.campaign_id, o.sent_on
),

days as (
    select campaign_id, sent_on from sent
    union
    select campaign_id, sent_on from opened
    union
    select campaign_id, sent_on from clicked
),

counts as (
    select
        d.campaign_id,
        d.sent_on,
        coalesce(s.sent, 0) as sent,
        coalesce(s.delivered, 0) as delivered,
        coalesce(o.opens, 0) as opens,
        coalesce(s.unique_opens, 0) as unique_opens,
        coalesce(c.clicks, 0) as clicks,
        coalesce(s.unique_clicks, 0) as unique_clicks,
        coalesce(s.hard_bounces, 0) as hard_bounces,
        coalesce(s.soft_bounces, 0) as soft_bounces,
        coalesce(s.blocked, 0) as blocked,
        coalesce(s.spam_reports, 0) as spam_reports,
        coalesce(s.unsubscribes, 0) as unsubscribes
    from days d
    left join sent s on s.campaign_id = d.campaign_id and s.sent_on = d.sent_on
    left join opened o on o.campaign_id = d.campaign_id and o.sent_on = d.sent_on
    left join clicked c on c.campaign_id = d.campaign_id and c.sent_on = d.sent_on
),

final as (
    select
        campaign_id,
        sent_on,
        cast(sent as bigint) as sent,
        cast(delivered as bigint) as delivered,
        cast(opens as bigint) as opens,
        cast(unique_opens as bigint) as unique_opens,
        cast(clicks as bigint) as clicks,
        cast(unique_clicks as bigint) as unique_clicks,
        cast(hard_bounces as bigint) as hard_bounces,
        cast(soft_bounces as bigint) as soft_bounces,
        cast(blocked as bigint) as blocked,
        cast(spam_reports as bigint) as spam_reports,
        cast(unsubscribes as bigint) as unsubscribes,
        cast(delivered as double) / nullif(sent, 0) as delivery_rate,
        cast(unique_opens as double) / nullif(delivered, 0) as open_rate,
        cast(unique_clicks as double) / nullif(delivered, 0) as click_rate,
        cast(hard_bounces + soft_bounces as double) / nullif(sent, 0) as bounce_rate,
        cast(spam_reports as double) / nullif(delivered, 0) as spam_rate,
        cast(unsubscribes as double) / nullif(delivered, 0) as unsubscribe_rate
    from counts
)

select * from final
