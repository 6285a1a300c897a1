-- mailjet.events: Mailjet's real-time events (sent, open, click, bounce, spam, blocked, unsub and any
-- other type), as the webhook receiver got them, one row per event; `raw` keeps the event as received.
select
    event_key, event, time, message_id, message_guid, email, mj_campaign_id, mj_contact_id, mj_list_id,
    customcampaign, custom_id, payload, mj_message_id, smtp_reply, ip, geo, agent, url, blocked,
    hard_bounce, error_related_to, error, comment, source, received_at, raw, 'webhook' as _source,
    _extracted_at
from mailjet_api.events t
