-- The holder lets the next writer in. Parameters: name, token.
update mailjet_sync.writer_lease
set holder = null, token = null, taken_at = null, expires_at = null
where name = ? and token = ?
