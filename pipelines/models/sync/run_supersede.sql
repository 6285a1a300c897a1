-- A run that will not be sent: a newer plan of its audience came, or its audience left the audiences file.
update mailjet_sync.sync_runs set status = 'superseded'
where run_id = ?
