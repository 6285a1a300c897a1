-- Who holds the writer lock: the name its session gave itself, and since when it has held it (the end of
-- its last statement: taking the lock and naming itself).
with
locks as (
    select pid
    from pg_locks
    where locktype = 'advisory' and granted and classid = ? and objid = ? and objsubid = 2
),
sessions as (
    select pid, application_name, state_change
    from pg_stat_activity
),
final as (
    select sessions.application_name, sessions.state_change as held_since
    from locks
    inner join sessions on sessions.pid = locks.pid
)
select * from final
