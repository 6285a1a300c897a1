-- `mailjet-elt explain`: the person's engagement: messages Mailjet sent them, their last open and last click
-- (`mailjet.messages`, `opens`, `clicks`). `mailjet.contacts` stands for the contacts the contacts part
-- found (pipelines/explain.py). Parameter: the email.
with

person as (
    select mailjet_sync.norm(?) as email
),

contact as (
    select c.id
    from mailjet.contacts as c
    join person as p on mailjet_sync.norm(c.email) = p.email
),

sent as (
    select count(*) as messages, max(m.arrived_at) as last_message_at
    from mailjet.messages as m
    where m.contact_id in (select id from contact)
),

opened as (
    select count(*) as opens, max(o.opened_at) as last_open_at
    from mailjet.opens as o
    where o.contact_id in (select id from contact)
),

clicked as (
    select count(*) as clicks, max(k.clicked_at) as last_click_at
    from mailjet.clicks as k
    where k.contact_id in (select id from contact)
),

final as (
    select s.messages, s.last_message_at, o.opens, o.last_open_at, k.clicks, k.last_click_at
    from sent as s
    cross join opened as o
    cross join clicked as k
)

select * from final
