-- _consent: the latest consent event per email for the list's permission (parameter; none without one).
create temporary table _consent as
select email, granted, "at", source
from mailjet_sync.consent_current
where permission = cast(? as varchar)
