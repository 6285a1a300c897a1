-- `mailjet-elt explain`: whether the ledger's view can still be read, before the person's own ledger is
-- built from consent_ledger.sql: a table the view reads loaded again with other columns fails here as it
-- would for the whole ledger (binding the view reads no row), so the story says to run `plan`. No parameter.
select count(*) as n
from mailjet_sync.consent_ledger
where 1 = 0
