-- The text of an audience's date-and-time property in the plan (`_aud`), by its column's type: RFC 3339 in
-- UTC, to the second, as Mailjet documents `datetime` values: a timestamp with a time zone at its instant;
-- a timestamp without one, or a date, read as UTC. Other columns are read as text (audience_rows.sql).
-- Written for the column `p_0`; the engine takes the term of the column's type.
select
    replace(cast(date_trunc('second', timezone('UTC', p_0)) as varchar), ' ', 'T') || 'Z' as zoned,
    replace(cast(date_trunc('second', cast(p_0 as timestamp)) as varchar), ' ', 'T') || 'Z' as naive
from mailjet_sync.audience
