-- mailjet.bounces: bounces and blocks, as Mailjet lists them (only Mailjet has these).
select
    id, bounced_at, campaign_id, contact_id, is_blocked, is_state_permanent, state_id, 'api' as _source,
    _extracted_at
from mailjet_api.bounces t
