-- The values of crm.consent_events' `granted` that say neither granted nor withdrawn, with how many rows
-- hold each, most frequent first (then alphabetically, so the message is the same every time): the plan
-- stops on any (a withdrawal must never be missed).
select mailjet_sync.norm(granted_given) as granted_given, count(*) as n
from crm_consent_events
where granted_given is not null and granted is null
group by 1
order by 2 desc, 1
