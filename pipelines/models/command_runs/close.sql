-- A command ends. Parameters: finished_at, status, summary, error, run_id.
update mailjet_sync.command_runs
set finished_at = ?, status = ?, summary = ?, error = ?
where run_id = ?
