-- mailjet_models.contact_engagement: one row per contact of `mailjet.contacts`: the messages Mailjet sent
-- them, their last open and last click, and an engagement tier.
-- The tier counts days back from `as_of`, the newest `_extracted_at` of `mailjet.messages` (the data's own
-- "now", not the wall clock: the same data gives the same tiers whenever it is queried), from the
-- contact's latest open or click (`mailjet.opens`, `mailjet.clicks`), whichever is later:
-- * active:   at most 30 days (30 x 24 h) before `as_of` (or after it)
-- * lapsing:  more than 30 days and at most 90 days before `as_of`
-- * dormant:  more than 90 days before `as_of`
-- * never:    no open and no click at all
-- Messages, opens and clicks are matched to the contact by `contact_id`.
--   contact_id       the contact (`mailjet.contacts.id`)
--   email            the contact's email (`mailjet.contacts.email`)
--   messages_sent    messages sent to the contact (`mailjet.messages`, one row each)
--   last_sent_at     when the latest of them was sent (`mailjet.messages.arrived_at`); null when none
--   last_open_at     the contact's latest open (`mailjet.opens.opened_at`); null when none
--   last_click_at    the contact's latest click (`mailjet.clicks.clicked_at`); null when none
--   engagement_tier  active, lapsing, dormant or never (thresholds above)
--   as_of            the instant the tier counts back from: the newest `mailjet.messages._extracted_at`
with
contacts as (
    select id, email from mailjet.contacts
),

messages as (
    select contact_id, arrived_at, _extracted_at from mailjet.messages
),

opens as (
    select contact_id, opened_at from mailjet.opens
),

clicks as (
    select contact_id, clicked_at from mailjet.clicks
),

as_of as (
    select max(_extracted_at) as as_of from messages
),

sent as (
    select contact_id, count(*) as messages_sent, max(arrived_at) as last_sent_at
    from messages
    group by contact_id
),

opened as (
    select contact_id, max(opened_at) as last_open_at from opens group by contact_id
),

clicked as (
    select contact_id, max(clicked_at) as last_click_at from clicks group by contact_id
),

engaged as (
    select
        c.id as contact_id,
        c.email,
        coalesce(s.messages_sent, 0) as messages_sent,
        s.last_sent_at,
        o.last_open_at,
        k.last_click_at,
        case
            when o.last_open_at is null then k.last_click_at
            when k.last_click_at is null then o.last_open_at
            when k.last_click_at > o.last_open_at then k.last_click_at
            else o.last_open_at
        end as last_engaged_at,
        a.as_of
    from contacts c
    cross join as_of a
    left join sent s on s.contact_id = c.id
    left join opened o on o.contact_id = c.id
    left join clicked k on k.contact_id = c.id
),

final as (
    select
        contact_id,
        email,
        cast(messages_sent as bigint) as messages_sent,
        last_sent_at,
        last_open_at,
        last_click_at,
        case
            when last_engaged_at is null then 'never'
            when last_engaged_at >= as_of - interval '30 days' then 'active'
            when last_engaged_at >= as_of - interval '90 days' then 'lapsing'
            else 'dormant'
        end as engagement_tier,
        as_of
    from engaged
)

select * from final
