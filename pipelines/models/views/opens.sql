-- mailjet.opens: opens, as Mailjet lists them (only Mailjet has these).
select
    message_id, opened_at, arrived_at, campaign_id, contact_id, user_agent_id, user_agent_full, 'api' as
    _source, _extracted_at
from mailjet_api.opens t
