-- mailjet_matched.contact_lists: what mailjet.contact_lists shows of imported files, recomputed after every load.
-- mailjet.contact_lists: one list per name.
-- Every list Mailjet lists; then each list an import named (`--list`) that Mailjet does not have, by ID
-- or by name (case-insensitive): its first import's spelling, with the ID derived from the name (or the
-- number given).
with named as (
    select lower(name) as name_key from mailjet_api.contact_lists t where name is not null group by lower(name)
),
file_lists as (
    select r.list_id, r.list_name, r.file, r.imported_at, row_number() over (
        partition by r.list_id order by r.imported_at, r.file
    ) as n
    from mailjet_csv.imports r
    left join mailjet_api.contact_lists i on r.list_name is null and i.id = r.list_id
    left join named m on m.name_key = lower(r.list_ref)
    where r.list_ref is not null and i.id is null and m.name_key is null
)
select
    list_id as id,
    list_name as name,
    cast(null as varchar) as address,
    cast(null as boolean) as is_deleted,
    cast(null as bigint) as subscriber_count,
    cast(null as timestamp with time zone) as created_at,
    'csv:' || file as _source,
    imported_at as _extracted_at
from file_lists
where n = 1
