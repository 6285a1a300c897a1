-- The rows one run (parameter) left out, per stage (data_test, plan) and reason.
select stage, reason, count(*) as left_out
from mailjet_sync.sync_rejections
where run_id = cast(? as bigint)
group by stage, reason
