-- The subscribed members the audience added who would leave it but stay, since exits are held.
select count(*) as kept
from _members as m
join _managed as g on g.email = m.email
left join _presence as p on p.email = m.email
where m.is_unsubscribed = false and not coalesce(p.eligible, false)
