-- _suppressed: the people of the audience no list may receive, with the strongest reason: excluded from
-- campaigns, spam complaint (Mailjet's flag, or a webhook `spam` event), hard bounce (Mailjet's bounce
-- log, or a webhook `bounce` event).
create temporary table _suppressed as
with

reasons as (
    select mailjet_sync.norm(email) as email, 1 as rank, 'excluded_from_campaigns' as reason
    from mailjet.contacts
    where is_excluded_from_campaigns
    union all
    select mailjet_sync.norm(email), 2, 'spam_complaint'
    from mailjet.contacts
    where is_spam_complaining
    union all
    select mailjet_sync.norm(c.email), 3, 'hard_bounce'
    from mailjet.bounces as b
    join mailjet.contacts as c on c.id = b.contact_id
    where b.is_state_permanent
    union all
    select mailjet_sync.norm(email), 2, 'spam_complaint'
    from mailjet_api.events
    where event = 'spam'
    union all
    select mailjet_sync.norm(email), 3, 'hard_bounce'
    from mailjet_api.events
    where event = 'bounce' and hard_bounce
),

ranked as (
    select email, reason, row_number() over (partition by email order by rank) as n
    from reasons
    where email in (select email from _aud)
),

final as (
    select email, reason
    from ranked
    where n = 1
)

select * from final
