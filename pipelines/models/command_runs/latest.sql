-- The newest run's ID (a new one is past it, whatever the clocks say).
select max(run_id) as latest
from mailjet_sync.command_runs
