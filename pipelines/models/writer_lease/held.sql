-- Who holds the lease, and till when; whether it has run out, by the warehouse's clock.
select
    token,
    holder,
    taken_at,
    expires_at,
    expires_at < current_timestamp as is_expired
from mailjet_sync.writer_lease
where name = ?
