-- mailjet.webhook_rejections: deliveries (or parts of them) the webhook receiver could not take, and why.
select rejection_id, received_at, reason, detail, body, remote, 'webhook' as _source, _extracted_at
from mailjet_api.webhook_rejections t
