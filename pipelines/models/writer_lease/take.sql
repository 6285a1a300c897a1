-- Take the lease when it is free or has run out (its holder stopped renewing it: killed, or cut off).
-- One statement: of two writers taking it at once, the warehouse lets one update the row and the other
-- finds it taken. Parameters: holder, token, expires_at, name.
update mailjet_sync.writer_lease
set holder = ?, token = ?, taken_at = current_timestamp, expires_at = ?
where name = ? and (token is null or expires_at < current_timestamp)
