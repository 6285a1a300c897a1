-- The unsubscribes and removals the sync made on a list that Mailjet confirmed since a moment (the start
-- of the removal window): the removal guard counts them with the ones a plan adds.
-- Parameters: the list's ID, the window's start.
with changes as (
    select list_id, email, action, outcome, "at"
    from mailjet_sync.sync_changelog
),

final as (
    select count(*) as removed
    from changes
    where list_id = ? and action in ('unsub', 'remove') and outcome = 'done' and "at" >= ?
)

select * from final
