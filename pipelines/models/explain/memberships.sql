-- `mailjet-elt explain`: the person's memberships as `mailjet.list_recipients` shows them, and what the sync
-- knows of each (`mailjet_sync.sync_snapshot`): whether it made the membership, its last action on it and
-- in which run. `mailjet.contacts` stands for the contacts the contacts part found (pipelines/explain.py).
-- Parameter: the email.
with

person as (
    select mailjet_sync.norm(?) as email
),

contact as (
    select c.id
    from mailjet.contacts as c
    join person as p on mailjet_sync.norm(c.email) = p.email
),

snapshot as (
    select s.audience, s.list_id, s.managed_since, s.last_action, s.last_run_id
    from mailjet_sync.sync_snapshot as s
    join person as p on s.email = p.email
),

final as (
    select
        r.list_id,
        coalesce(l.name, r.list_name) as list_name,
        r.is_unsubscribed,
        r.subscribed_at,
        r.unsubscribed_at,
        r._source,
        s.audience,
        s.managed_since,
        s.last_action,
        s.last_run_id
    from mailjet.list_recipients as r
    join contact as c on c.id = r.contact_id
    left join mailjet.contact_lists as l on l.id = r.list_id
    left join snapshot as s on s.list_id = r.list_id
)

select * from final
order by list_name, list_id, audience
