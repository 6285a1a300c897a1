-- `mailjet-elt explain`: the person's contacts in `mailjet.contacts` (the email compared as the sync
-- normalizes it). Parameter: the email.
with

person as (
    select mailjet_sync.norm(?) as email
),

final as (
    select
        c.id,
        c.email,
        c.name,
        c.is_excluded_from_campaigns,
        c.is_spam_complaining,
        c.created_at,
        c._source
    from mailjet.contacts as c
    join person as p on mailjet_sync.norm(c.email) = p.email
)

select * from final
order by id
