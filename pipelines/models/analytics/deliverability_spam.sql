-- mailjet_models.deliverability_spam: the spam rate by campaign, one row per campaign over its lifetime:
-- `campaign_performance` summed over the campaign's days (the bounces by domain and reason are
-- `deliverability`).
--   campaign_id    the campaign
--   delivered      messages delivered (`campaign_performance.delivered`, summed)
--   spam_reports   messages reported as spam (`campaign_performance.spam_reports`, summed)
--   spam_rate      spam_reports / delivered; null when nothing was delivered
with
performance as (
    select campaign_id, delivered, spam_reports from mailjet_models.campaign_performance
),

final as (
    select
        campaign_id,
        cast(sum(delivered) as bigint) as delivered,
        cast(sum(spam_reports) as bigint) as spam_reports,
        cast(sum(spam_reports) as double) / nullif(sum(delivered), 0) as spam_rate
    from performance
    group by campaign_id
)

select * from final
