-- The subscribed members of the list (_members).
select count(*) as members
from _members
where coalesce(is_unsubscribed, false) = false
