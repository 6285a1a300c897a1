-- mailjet.sms_messages: SMS sent, as Mailjet lists them (only Mailjet has these).
select
    id, sender, recipient, status_code, status_name, created_at, sent_at, sms_count, cost_value,
    cost_currency, 'api' as _source, _extracted_at
from mailjet_api.sms_messages t
