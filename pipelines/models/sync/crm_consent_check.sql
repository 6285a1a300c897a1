-- Reads every consent event of crm.consent_events the ledger keeps, converting each value (a bare count
-- would let the engine skip the conversions): fails when an `at` is not a time.
select max("at") as latest_at, count(granted) as events
from crm_consent_events
where email is not null and permission is not null and granted is not null and at_given is not null
