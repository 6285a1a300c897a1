-- The contact property definitions Mailjet had at the extract: each one's lowercase name and datatype.
with

definitions as (
    select lower(name) as name, datatype from mailjet.contact_property_definitions
),

final as (
    select name, datatype from definitions where name is not null
)

select * from final
