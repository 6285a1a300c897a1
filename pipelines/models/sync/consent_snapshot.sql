-- _consent_current: mailjet_sync.consent_current as it stands when an audience run starts. The run's rows
-- (its view's query) and its list's consent are read from this copy, so the ledger's latest-event sort
-- runs once per run, not once per read (the view itself stays as it is, for anyone who queries it).
create temporary table _consent_current as
select email, permission, granted, "at", source, list_id
from mailjet_sync.consent_current
