-- sync_snapshot: the memberships this audience added that changed outside the sync are no longer its own
-- (`released`; parameters: the audience, Mailjet's list ID, when the Mailjet data was extracted): seen in
-- data extracted after the add (_members), the person is unsubscribed, off the list, or subscribed again
-- later than the add. A released member is never removed on leaving, and their own later subscription
-- counts as their grant in the ledger.
update mailjet_sync.sync_snapshot
set last_action = 'released'
from
    (
        select
            cast(? as varchar) as audience,
            cast(? as bigint) as list_id,
            cast(? as timestamp with time zone) as as_of
    ) as p
where
    sync_snapshot.audience = p.audience
    and sync_snapshot.list_id = p.list_id
    and sync_snapshot.last_action = 'addnoforce'
    and p.as_of > sync_snapshot.managed_since
    and not exists (
        select 1
        from _members as m
        where
            m.email = sync_snapshot.email
            and m.contact_id is not null
            and m.is_unsubscribed = false
            and (
                sync_snapshot.mailjet_subscribed_at is null
                or m.subscribed_at is null
                or m.subscribed_at <= sync_snapshot.mailjet_subscribed_at
            )
    )
