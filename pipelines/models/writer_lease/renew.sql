-- The holder renews its lease while it works. Parameters: expires_at, name, token.
update mailjet_sync.writer_lease
set expires_at = ?
where name = ? and token = ?
