-- mailjet.campaigns: sent campaigns, as Mailjet lists them (only Mailjet has these).
select
    id, campaign_type, status, subject, custom_value, newsletter_id, list_id, segmentation_id,
    workflow_id, first_message_id, from_id, from_email, from_name, is_deleted, is_starred, click_tracked,
    open_tracked, has_html_count, has_txt_count, unsubscribe_tracked_count, spamass_score, created_at,
    send_start_at, send_end_at, 'api' as _source, _extracted_at
from mailjet_api.campaigns t
