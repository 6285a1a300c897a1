-- The latest run's ID.
select max(run_id) as run_id
from mailjet_sync.sync_runs
