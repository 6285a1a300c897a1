-- _presence: per email of the audience, whether any of its rows failed a data test, whether one is
-- eligible to be on the list (passed, not suppressed, consent), and the suppression.
create temporary table _presence as
select
    email,
    bool_or(rejected) as any_rejected,
    bool_or(not rejected and suppressed is null and consent_ok) as eligible,
    min(suppressed) as suppressed
from _state
group by email
