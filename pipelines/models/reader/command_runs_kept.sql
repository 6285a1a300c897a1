-- On the DuckDB file (`mailjet-elt runs`): whether it keeps command_runs yet (the first writer creates it).
select count(*) as found
from information_schema.tables
where table_schema = 'mailjet_sync' and table_name = 'command_runs'
