-- `mailjet-elt report`, campaign performance: the 12 latest campaigns (by their first day of sending),
-- each over all its days (`mailjet_models.campaign_performance` summed), with its subject.
with

per_campaign as (
    select
        campaign_id,
        min(sent_on) as first_sent_on,
        cast(sum(sent) as bigint) as sent,
        cast(sum(delivered) as bigint) as delivered,
        cast(sum(unique_opens) as bigint) as unique_opens,
        cast(sum(unique_clicks) as bigint) as unique_clicks,
        cast(sum(hard_bounces + soft_bounces) as bigint) as bounces,
        cast(sum(unsubscribes) as bigint) as unsubscribes
    from mailjet_models.campaign_performance
    group by campaign_id
),

latest as (
    select *
    from per_campaign
    order by first_sent_on desc, campaign_id desc nulls last
    limit 12
),

final as (
    select
        l.campaign_id,
        c.subject,
        l.first_sent_on,
        l.sent,
        l.delivered,
        l.unique_opens,
        l.unique_clicks,
        l.bounces,
        l.unsubscribes,
        cast(l.unique_opens as double) / nullif(l.delivered, 0) as open_rate,
        cast(l.unique_clicks as double) / nullif(l.delivered, 0) as click_rate,
        cast(l.bounces as double) / nullif(l.sent, 0) as bounce_rate
    from latest as l
    left join mailjet.campaigns as c on c.id = l.campaign_id
)

select * from final
order by first_sent_on, campaign_id nulls first
