-- mailjet_sync.consent_lists: each list an audience maps to a permission (list_permissions: list_id,
-- permission), as the last plan read the audiences file: the relation consent_ledger.sql reads for them,
-- the view the plan makes and the one person's ledger `mailjet-elt explain` reads alike.
create or replace view mailjet_sync.consent_lists as
select list_id, permission
from list_permissions
