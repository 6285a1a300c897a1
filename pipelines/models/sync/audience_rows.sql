-- _aud: the rows of an audience's view, numbered: the address as given, and as every rule compares it
-- (mailjet_sync.norm: blanks trimmed, lowercased; null when blank), not yet rejected; then each declared
-- property as text, blanks trimmed (each end its own anchored pattern: no flag, which not every engine's
-- regexp_replace takes), a blank value as none (never pushed: it would erase Mailjet's). Written for a view
-- mailjet_sync.audience with the columns `email` and one property `p_0`; the engine names the view,
-- its address column and its property columns (p_0..p_n, in the order of `-- properties:`).
create temporary table _aud as
select
    row_number() over () - 1 as row_no,
    cast(email as varchar) as email_given,
    mailjet_sync.norm(email) as email,
    false as rejected,
    nullif(regexp_replace(regexp_replace(cast(p_0 as varchar), '^\s+', ''), '\s+$', ''), '') as p_0
from mailjet_sync.audience
