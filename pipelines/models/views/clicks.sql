-- mailjet.clicks: clicks, as Mailjet lists them (only Mailjet has these).
select
    id, message_id, clicked_at, contact_id, url, clicked_delay, user_agent_id, 'api' as _source,
    _extracted_at
from mailjet_api.clicks t
