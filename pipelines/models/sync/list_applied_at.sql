-- When the latest apply of another run that sent changes to a run's list ended: a plan whose Mailjet
-- data was extracted before then does not show that apply's changes, and would send them again.
-- Parameters: the run's ID, its list's ID (null while the list does not exist), its list reference.
with runs as (
    select run_id, list_id, list_ref, status, applied_at, done, refused, failed
    from mailjet_sync.sync_runs
),

sent as (
    select run_id, list_id, list_ref, applied_at
    from runs
    where status in ('applied', 'partial')
        and coalesce(done, 0) + coalesce(refused, 0) + coalesce(failed, 0) > 0
),

final as (
    select max(applied_at) as applied_at
    from sent
    where run_id <> ? and (list_id = ? or list_ref = ?)
)

select * from final
