-- `mailjet-elt report`, deliverability: the 10 recipient domains with the most bounces
-- (`mailjet_models.deliverability`), by kind of bounce.
with

by_domain as (
    select
        coalesce(recipient_domain, '(contact deleted)') as domain,
        cast(sum(case when bounce_type = 'hard' then bounces else 0 end) as bigint) as hard,
        cast(sum(case when bounce_type = 'soft' then bounces else 0 end) as bigint) as soft,
        cast(sum(case when bounce_type = 'blocked' then bounces else 0 end) as bigint) as blocked,
        cast(sum(bounces) as bigint) as bounces
    from mailjet_models.deliverability
    group by coalesce(recipient_domain, '(contact deleted)')
),

final as (
    select *
    from by_domain
    order by bounces desc, domain
    limit 10
)

select * from final
order by bounces desc, domain
