-- Whether the warehouse keeps command_runs yet (the first command that writes it creates it).
select count(*) as found
from information_schema.tables
where table_schema = 'mailjet_sync' and table_name = 'command_runs'
