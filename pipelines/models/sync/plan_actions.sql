-- The changes one run (parameter) planned, per action and reason.
select action, reason, count(*) as changes
from mailjet_sync.sync_plan
where run_id = cast(? as bigint)
group by action, reason
