-- Whether any consent event is dated later than now (parameter: now plus a small skew), read from the
-- plan's copy of consent_current: a future event is the latest of its (email, permission).
select 1 as found
from _consent_current
where "at" > cast(? as timestamp with time zone)
limit 1
