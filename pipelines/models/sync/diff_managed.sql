-- _managed: whom this audience (parameter) added to its list (parameter: Mailjet's list ID), and since
-- when, from sync_snapshot.
create temporary table _managed as
select email, min(managed_since) as managed_since
from mailjet_sync.sync_snapshot
where audience = cast(? as varchar) and list_id = cast(? as bigint) and last_action = 'addnoforce'
group by email
