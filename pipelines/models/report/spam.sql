-- `mailjet-elt report`, deliverability: the 12 campaigns with the highest spam rate
-- (`mailjet_models.deliverability_spam`), among those with a spam report, with their subjects.
with

ranked as (
    select campaign_id, delivered, spam_reports, spam_rate
    from mailjet_models.deliverability_spam
    where spam_reports > 0 and delivered > 0
    order by spam_rate desc, campaign_id nulls last
    limit 12
),

final as (
    select r.campaign_id, c.subject, r.delivered, r.spam_reports, r.spam_rate
    from ranked as r
    left join mailjet.campaigns as c on c.id = r.campaign_id
)

select * from final
order by spam_rate desc, campaign_id nulls last
