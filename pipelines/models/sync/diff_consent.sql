-- _consent: the latest consent event per email for the list's permission (parameter; none without one),
-- from the run's copy of mailjet_sync.consent_current (consent_snapshot.sql).
create temporary table _consent as
select email, granted, "at", source
from _consent_current
where permission = cast(? as varchar)
