-- `mailjet-elt explain`: every consent event of the ledger about the person, oldest first, and whether it is
-- the one in force (once, however often the ledger repeats it). `person_current` stands for
-- consent_current.sql's own query, read over `events` (the person's events only, rather than the whole
-- ledger): the same choice of the event in force, ties included. Parameter: the email.
with

person as (
    select mailjet_sync.norm(?) as email
),

events as (
    select l.email, l.permission, l.granted, l."at", l.source, l.list_id
    from mailjet_sync.consent_ledger as l
    join person as p on l.email = p.email
),

numbered as (
    -- The same event given twice (a CRM file with a row repeated) is shown twice, and in force once.
    select
        e.*,
        row_number() over (
            partition by e.permission, e.granted, e."at", e.source, e.list_id order by e.source
        ) as copy
    from events as e
),

final as (
    select
        e.permission,
        e.granted,
        e."at",
        e.source,
        e.list_id,
        l.name as list_name,
        e.copy = 1 and exists (
            select 1 from person_current as k
            where k.permission = e.permission
                and k.granted = e.granted
                and k."at" is not distinct from e."at"
                and k.source = e.source
                and k.list_id is not distinct from e.list_id
        ) as in_force
    from numbered as e
    left join mailjet.contact_lists as l on l.id = e.list_id
)

select * from final
order by permission, "at" nulls first, source
