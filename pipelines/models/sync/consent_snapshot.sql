-- _consent_current: mailjet_sync.consent_current read once per plan. Every audience's rows and every
-- list's consent are read from this copy, so the ledger's latest-event sort runs once, not once per read
-- (the view itself stays as it is, for anyone who queries it).
create temporary table _consent_current as
select email, permission, granted, "at", source, list_id
from mailjet_sync.consent_current
