-- `mailjet-elt explain`: why no list may receive the person, each reason the plan's `_suppressed` reads
-- (diff_suppressed.sql), with its date where the source gives one. `mailjet.contacts` stands for the contacts
-- the contacts part found (pipelines/explain.py). Parameters: the email, each time.
with

person as (
    select mailjet_sync.norm(?) as email
),

contact as (
    select c.id, c.is_excluded_from_campaigns, c.exclusion_from_campaigns_updated_at, c.is_spam_complaining
    from mailjet.contacts as c
    join person as p on mailjet_sync.norm(c.email) = p.email
),

reasons as (
    select 'excluded_from_campaigns' as reason, exclusion_from_campaigns_updated_at as "at", 'mailjet' as source
    from contact
    where is_excluded_from_campaigns
    union all
    select 'spam_complaint', cast(null as timestamp with time zone), 'mailjet'
    from contact
    where is_spam_complaining
    union all
    select 'hard_bounce', b.bounced_at, 'mailjet'
    from mailjet.bounces as b
    join contact as c on c.id = b.contact_id
    where b.is_state_permanent
    union all
    select 'spam_complaint', e."time", 'webhook'
    from mailjet.events as e
    where e.event = 'spam' and mailjet_sync.norm(e.email) = mailjet_sync.norm(?)
    union all
    select 'hard_bounce', e."time", 'webhook'
    from mailjet.events as e
    where e.event = 'bounce' and e.hard_bounce and mailjet_sync.norm(e.email) = mailjet_sync.norm(?)
),

final as (
    select reason, "at", source from reasons
)

select * from final
order by "at" nulls first, reason
