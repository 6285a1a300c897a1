-- mailjet_sync.consent_current: the latest consent event per (email, permission) of the ledger; on a
-- tie the withdrawal wins (then the source, then the list, so that the same ledger always gives the same
-- row, and the plan's evidence the same list).
create or replace view mailjet_sync.consent_current as
with

ranked as (
    select
        l.*,
        row_number() over (
            partition by email, permission
            order by "at" desc, case when granted then 1 else 0 end, source, list_id
        ) as n
    from mailjet_sync.consent_ledger as l
    where permission is not null
),

final as (
    select email, permission, granted, "at", source, list_id
    from ranked
    where n = 1
)

select * from final
