-- The CRM's consent events (crm.consent_events) read as consent: `granted` as a boolean (null when the
-- text says neither granted nor withdrawn), `at` as a timestamp with time zone, `source` 'crm' when not
-- given; the values as given beside them. Written for a text `granted` and `at`; the engine reads a
-- boolean or numeric `granted` and an `at` of Unix seconds as such (pipelines/sync/ledger.py).
-- Read by consent_ledger.sql, crm_consent_check.sql and crm_consent_unreadable.sql.
select
    email,
    permission,
    case
        when mailjet_sync.norm(granted) in (
            'true', 't', 'yes', 'y', '1', 'granted', 'grant', 'given', 'opt-in', 'optin', 'opt_in',
            'opted-in', 'opted_in', 'subscribed', 'subscribe', 'consented', 'accepted'
        ) then true
        when mailjet_sync.norm(granted) in (
            'false', 'f', 'no', 'n', '0', 'withdrawn', 'withdraw', 'revoked', 'revoke', 'opt-out', 'optout',
            'opt_out', 'opted-out', 'opted_out', 'unsubscribed', 'unsubscribe', 'unsub', 'declined',
            'denied', 'refused'
        ) then false
    end as granted,
    cast("at" as timestamp with time zone) as "at",
    coalesce(cast(source as varchar), 'crm') as source,
    granted as granted_given,
    "at" as at_given
from crm.consent_events
