-- _consent_unusable: the CRM's consent rows the ledger cannot use, judged once per plan (parameter: the
-- pattern of a valid address): an address missing or invalid once normalized, no permission, no date, a
-- `granted` left empty; and a withdrawal whose permission no audience of the file declares (a misspelt
-- permission would lose it). Each audience run writes those of its permission (consent_rejections.sql).
create temporary table _consent_unusable as
with

events as (
    select
        cast(e.email as varchar) as email_given,
        mailjet_sync.norm(e.email) as email,
        cast(e.permission as varchar) as permission_given,
        mailjet_sync.norm(e.permission) as permission,
        e.granted,
        e.granted_given,
        e.at_given
    from crm_consent_events as e
),

judged as (
    select
        e.*,
        case
            when e.email is null then 'missing_email'
            when not regexp_matches(e.email, cast(? as varchar)) then 'invalid_email'
            when e.permission is null then 'no_permission'
            when e.at_given is null then 'no_date'
            when e.granted_given is null then 'no_granted'
            when
                e.granted = false and e.permission not in (select k.permission from known_permissions as k)
                then 'unknown_permission'
        end as reason,
        e.permission is not null and e.permission in (select k.permission from known_permissions as k) as is_known
    from events as e
),

final as (
    select email_given, permission_given, permission, granted_given, at_given, reason, is_known
    from judged
    where reason is not null
)

select * from final
