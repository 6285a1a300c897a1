-- `mailjet-elt explain`: the person's contacts in `mailjet.contacts` (the email compared as the sync
-- normalizes it, with the value itself: each contact's lowercase is tested first, pipelines/models/norm.py).
-- The parts that read the person's contacts again read these (by their IDs). Parameter: the email.
with

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
    where mailjet_sync.norm(c.email) = mailjet_sync.norm(?)
)

select * from final
order by id
