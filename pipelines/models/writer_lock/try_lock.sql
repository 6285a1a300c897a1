-- The writer lock in a PostgreSQL warehouse: a session-level advisory lock on the project's key (two
-- integers), true when taken. The server frees it when the session ends, however its process ended.
select pg_try_advisory_lock(?, ?) as is_taken
