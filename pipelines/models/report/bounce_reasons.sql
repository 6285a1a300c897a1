-- `mailjet-elt report`, deliverability: the 10 commonest reasons for a bounce
-- (`mailjet_models.deliverability`), in Mailjet's words.
with

by_reason as (
    select
        bounce_type,
        coalesce(error_related_to, '') as related_to,
        coalesce(error, concat('state ', cast(state_id as varchar))) as reason,
        cast(sum(bounces) as bigint) as bounces,
        cast(sum(contacts) as bigint) as contacts
    from mailjet_models.deliverability
    group by bounce_type, coalesce(error_related_to, ''), coalesce(error, concat('state ', cast(state_id as varchar)))
),

final as (
    select *
    from by_reason
    order by bounces desc, bounce_type, related_to, reason
    limit 10
)

select * from final
order by bounces desc, bounce_type, related_to, reason
