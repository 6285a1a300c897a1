-- The session holding the writer lock says who it is (the command, its pid and host), for the message of
-- a writer that waits for it.
select set_config('application_name', ?, false) as application_name
