-- The rows of the audience (_aud).
select count(*) as audience_rows
from _aud
