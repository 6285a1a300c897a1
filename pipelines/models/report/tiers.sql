-- `mailjet-elt report`, engagement: contacts per engagement tier (`mailjet_models.contact_engagement`),
-- every tier present even when no contact is in it, and the instant the tiers count back from.
with

tiers as (
    select 'active' as engagement_tier, 1 as rank
    union all select 'lapsing', 2
    union all select 'dormant', 3
    union all select 'never', 4
),

counted as (
    select engagement_tier, count(*) as contacts, max(as_of) as as_of
    from mailjet_models.contact_engagement
    group by engagement_tier
),

final as (
    select
        t.engagement_tier,
        cast(coalesce(c.contacts, 0) as bigint) as contacts,
        (select max(as_of) from counted) as as_of,
        t.rank
    from tiers as t
    left join counted as c on c.engagement_tier = t.engagement_tier
)

select engagement_tier, contacts, as_of from final
order by rank
