-- sync_snapshot: the subscription date Mailjet gives each subscribed membership this audience added
-- (parameters: the audience, Mailjet's list ID, when the Mailjet data was extracted), noted the first time
-- data extracted after the add shows it (_members): a later date means the person subscribed again by
-- themselves, and the membership is theirs (snapshot_release.sql).
update mailjet_sync.sync_snapshot
set mailjet_subscribed_at = m.subscribed_at
from
    (
        select
            cast(? as varchar) as audience,
            cast(? as bigint) as list_id,
            cast(? as timestamp with time zone) as as_of
    ) as p,
    _members as m
where
    sync_snapshot.audience = p.audience
    and sync_snapshot.list_id = p.list_id
    and sync_snapshot.last_action = 'addnoforce'
    and sync_snapshot.mailjet_subscribed_at is null
    and p.as_of > sync_snapshot.managed_since
    and m.email = sync_snapshot.email
    and m.contact_id is not null
    and m.is_unsubscribed = false
