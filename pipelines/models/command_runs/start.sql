-- A command starts. Parameters: run_id, command, started_at.
insert into mailjet_sync.command_runs (run_id, command, started_at, status)
values (?, ?, ?, 'running')
