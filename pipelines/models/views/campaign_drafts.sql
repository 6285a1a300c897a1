-- mailjet.campaign_drafts: campaign drafts and their status, as Mailjet lists them (only Mailjet has these).
select
    id, title, subject, status, locale, sender, sender_email, sender_name, reply_email, list_id,
    segmentation_id, campaign_id, template_id, edit_mode, is_starred, is_text_part_included, used, url,
    preset, current, ax_fraction, ax_fraction_name, ax_testing, created_at, modified_at, delivered_at,
    'api' as _source, _extracted_at
from mailjet_api.campaign_drafts t
