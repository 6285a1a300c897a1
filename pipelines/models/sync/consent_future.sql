-- The consent events of the ledger dated later than now (parameter: now plus a small skew), the latest
-- first, with how many there are: a mistyped date would outrank every later event, so the plan stops on
-- any, naming a few.
select email, permission, granted, "at", source, count(*) over () as n
from mailjet_sync.consent_ledger
where "at" > cast(? as timestamp with time zone)
order by "at" desc, email
limit 5
