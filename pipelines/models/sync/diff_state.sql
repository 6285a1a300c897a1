-- _state: each row of the audience with a usable email, beside what the list, the suppressions and the
-- consent say of it. `consent_ok` holds when the list needs no permission (parameter null) or the latest
-- consent event is a grant. The audience's property columns (a.p_0..a.p_n) follow.
create temporary table _state as
select
    a.email,
    a.rejected,
    m.email is not null as is_member,
    m.is_unsubscribed,
    m.contact_id,
    m.subscribed_at,
    s.reason as suppressed,
    k.granted,
    k."at" as consent_at,
    k.said_by as consent_source,
    (case when cast(? as varchar) is null then true else k.granted = true end) as consent_ok
from _aud as a
left join _members as m on m.email = a.email
left join _suppressed as s on s.email = a.email
left join _consent as k on k.email = a.email
where a.email is not null
