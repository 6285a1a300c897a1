-- Under the writer lock no other writer runs: a row still running is a process that died.
update mailjet_sync.command_runs
set status = 'interrupted'
where status = 'running'
