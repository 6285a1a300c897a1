-- The memberships the sync made and still holds (`sync_snapshot` rows of `addnoforce`): the only rows of the
-- snapshot the consent ledger reads. An audience run of a plan can release them, never add one (only `apply`
-- does), so while their number stays the same the ledger reads as it did, and the plan's copy of
-- `consent_current` stands.
select count(*) as added
from mailjet_sync.sync_snapshot
where last_action = 'addnoforce'
