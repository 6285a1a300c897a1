-- mailjet_models.deliverability: bounces by campaign, recipient domain and reason, one row each.
-- Read from `mailjet.bounces` (Mailjet's bounce log: one row per bounce or block, so a message deferred
-- then refused counts twice, once soft and once hard), the recipient's address from `mailjet.contacts`
-- by `contact_id` (the log names no address), and the reason's words from Mailjet's table of message
-- states (`/messagestate`: `StateID` -> the `error_related_to` and `error` of its webhook events).
-- The spam rate by campaign is `deliverability_spam` (one row per campaign: another grain).
--   campaign_id       the campaign (`mailjet.bounces.campaign_id`)
--   recipient_domain  the part of the recipient's address after `@`, normalized; null when the contact
--                     is not in `mailjet.contacts` (deleted since)
--   bounce_type       'hard' (`is_state_permanent`), 'soft' (not permanent) or 'blocked' (`is_blocked`,
--                     Mailjet refused to send)
--   state_id          Mailjet's reason (`StateID`; 0 when Mailjet gave none)
--   error_related_to  what the reason concerns: recipient, domain, content, spam, system, mailjet
--   error             Mailjet's reason in its words (`user unknown`, `quota exceeded`, ...); null for an
--                     unknown `state_id`
--   bounces           bounces (rows of `mailjet.bounces`)
--   contacts          distinct contacts among them
with
bounces as (
    select campaign_id, contact_id, is_blocked, is_state_permanent, state_id from mailjet.bounces
),

contacts as (
    select id, mailjet_sync.norm(email) as email from mailjet.contacts
),

states as (
    select * from (
        values
            (1, 'recipient', 'user unknown'),
            (2, 'recipient', 'mailbox inactive'),
            (3, 'recipient', 'quota exceeded'),
            (4, 'domain', 'invalid domain'),
            (5, 'domain', 'no mail host'),
            (6, 'domain', 'relay/access denied'),
            (7, 'spam', 'sender blocked'),
            (8, 'spam', 'content blocked'),
            (9, 'spam', 'policy issue'),
            (10, 'system', 'system issue'),
            (11, 'system', 'protocol issue'),
            (12, 'system', 'connection issue'),
            (13, 'domain', 'greylisted'),
            (14, 'mailjet', 'preblocked'),
            (15, 'mailjet', 'duplicate in campaign'),
            (16, 'spam', 'spam preblocked'),
            (17, 'content', 'bad or empty template'),
            (18, 'content', 'error in template language'),
            (19, 'domain', 'typofix'),
            (20, 'recipient', 'blacklisted'),
            (21, 'recipient', 'spam reporter')
    ) as s (state_id, error_related_to, error)
),

typed as (
    select
        b.campaign_id,
        split_part(c.email, '@', 2) as recipient_domain,
        case when b.is_blocked then 'blocked' when b.is_state_permanent then 'hard' else 'soft' end
            as bounce_type,
        coalesce(b.state_id, 0) as state_id,
        b.contact_id
    from bounces b
    left join contacts c on c.id = b.contact_id
),

final as (
    select
        t.campaign_id,
        t.recipient_domain,
        t.bounce_type,
        cast(t.state_id as bigint) as state_id,
        s.error_related_to,
        s.error,
        cast(count(*) as bigint) as bounces,
        cast(count(distinct t.contact_id) as bigint) as contacts
    from typed t
    left join states s on s.state_id = t.state_id
    group by t.campaign_id, t.recipient_domain, t.bounce_type, t.state_id, s.error_related_to, s.error
)

select * from final
