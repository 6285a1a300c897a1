-- _consent: the latest consent event per email for the list's permission (parameter; none without one),
-- from the run's copy of mailjet_sync.consent_current (consent_snapshot.sql). `said_by` is where the
-- event comes from, as the plan's evidence writes it: an event of a list (its state in Mailjet, a webhook,
-- an imported file, the durable record) names that list, by its name in mailjet.contact_lists, else by
-- its ID: when lists share the permission, an unsubscription from any of them withdraws it.
create temporary table _consent as
with

list_names as (
    select id, min(name) as name
    from mailjet.contact_lists
    group by id
),

final as (
    select
        k.email,
        k.granted,
        k."at",
        case
            when k.list_id is null then k.source
            when l.name is null then k.source || ', list ID ' || cast(k.list_id as varchar)
            else k.source || ', list "' || l.name || '"'
        end as said_by
    from _consent_current as k
    left join list_names as l on l.id = k.list_id
    where k.permission = cast(? as varchar)
)

select * from final
