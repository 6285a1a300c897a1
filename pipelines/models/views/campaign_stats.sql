-- mailjet.campaign_stats: lifetime statcounters per campaign, as Mailjet lists them (only Mailjet has these).
select
    campaign_id, total_count, message_sent_count, message_opened_count, message_clicked_count,
    message_hard_bounced_count, message_soft_bounced_count, message_blocked_count, message_spam_count,
    message_unsubscribed_count, message_queued_count, message_deferred_count,
    message_workflow_exited_count, event_opened_count, event_clicked_count, event_spam_count,
    event_unsubscribed_count, event_workflow_exited_count, event_open_delay, event_click_delay, 'api' as
    _source, _extracted_at
from mailjet_api.campaign_stats t
