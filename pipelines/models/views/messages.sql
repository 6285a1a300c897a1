-- mailjet.messages: one row per message sent, as Mailjet lists them (only Mailjet has these).
select
    id, arrived_at, campaign_id, contact_id, contact_email, subject, custom_id, uuid, status, state_id,
    state_permanent, sender_id, destination_id, attachment_count, attempt_count, delay, filter_time,
    message_size, spamassassin_score, spamass_rules, is_click_tracked, is_open_tracked, is_unsub_tracked,
    is_html_part_included, is_text_part_included, 'api' as _source, _extracted_at
from mailjet_api.messages t
